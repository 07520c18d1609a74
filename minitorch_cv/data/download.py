"""Where dataset files live, and how they get there.

Lookup order for a dataset's files: the ``root`` argument, then the folder named by the
``MINITORCH_CV_DATA`` environment variable, then the user cache
``$XDG_CACHE_HOME/minitorch_cv/data`` (``~/.cache/minitorch_cv/data`` by default). Downloads go
to the first of these.

``download_file`` streams a URL into a temporary file beside the destination, checks its md5,
and only then renames it into place (``os.replace`` is atomic on one file system), so an
interrupted or corrupted download never leaves a file that looks complete.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ENV_VAR = "MINITORCH_CV_DATA"
CHUNK = 1 << 20


class DatasetNotFoundError(FileNotFoundError):
    """The files of a dataset are in none of the searched folders."""


class DownloadError(RuntimeError):
    """No mirror delivered a file with the expected md5."""


def cache_dir() -> Path:
    """The per-user cache folder for datasets."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "minitorch_cv" / "data"


def search_roots(root=None) -> list[Path]:
    """The folders searched for datasets, in order: ``root``, ``$MINITORCH_CV_DATA``, cache."""
    roots = []
    if root is not None:
        roots.append(Path(root).expanduser())
    if os.environ.get(ENV_VAR):
        roots.append(Path(os.environ[ENV_VAR]).expanduser())
    roots.append(cache_dir())
    return roots


def find_folder(roots: Sequence[Path], layouts: Sequence[str], files: Sequence[str]):
    """The first ``root / layout`` that holds every name in ``files``, and all folders tried."""
    tried = []
    for base in roots:
        for layout in layouts:
            folder = base / layout
            tried.append(folder)
            if all((folder / name).is_file() for name in files):
                return folder, tried
    return None, tried


def not_found_message(name: str, tried: Sequence[Path], files: Sequence[str], target: Path) -> str:
    folders = "\n".join(f"  {folder}" for folder in tried)
    return (
        f"{name}: the files {', '.join(files)} are in none of these folders:\n{folders}\n"
        "Fix it with one of:\n"
        f"  - download=True to fetch the official files, md5-checked, into {target}\n"
        "  - root=FOLDER (command line: --data-dir FOLDER) for a folder that holds them\n"
        f"  - the environment variable {ENV_VAR}=FOLDER"
    )


def md5_file(path, chunk_size: int = CHUNK) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str, folder: Path, prefix: str, timeout: float) -> tuple[str, str]:
    """Stream ``url`` into a temporary file in ``folder``; return (path, md5 of the bytes)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{prefix}.", suffix=".part", dir=folder)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
    except BaseException:
        os.remove(tmp)
        raise
    return tmp, digest.hexdigest()


def download_file(
    urls: Sequence[str], destination, md5: str, timeout: float = 60.0, quiet: bool = False
) -> Path:
    """Fetch the first of ``urls`` whose bytes have ``md5`` and move it to ``destination``.

    Every mirror is tried in turn. A failed transfer or a wrong checksum deletes the temporary
    file, so on error nothing half-written remains; the error lists what each mirror did.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        if not quiet:
            print(f"downloading {url} -> {destination}", flush=True)
        try:
            tmp, got = _fetch(url, destination.parent, destination.name, timeout)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            failures.append(f"  {url}: {exc}")
            continue
        if got != md5:
            os.remove(tmp)
            failures.append(f"  {url}: md5 {got}, expected {md5} (corrupted or a different file)")
            continue
        os.replace(tmp, destination)
        return destination
    raise DownloadError(
        f"could not download {destination.name}; every mirror failed:\n"
        + "\n".join(failures)
        + f"\nNothing was kept. Check the network, or copy the official {destination.name} into "
        f"{destination.parent} by hand (or point root= / --data-dir / {ENV_VAR} at a folder "
        "that has it)."
    )
