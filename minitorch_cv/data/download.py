"""Where dataset files live, and how they get there.

Lookup order for a dataset's files: the ``root`` argument, then the folder named by the
``MINITORCH_CV_DATA`` environment variable, then the user cache
``$XDG_CACHE_HOME/minitorch_cv/data`` (``~/.cache/minitorch_cv/data`` by default). Downloads go
to the first of these.

``download_file`` streams a URL into a temporary file beside the destination, checks its md5,
and only then renames it into place (``os.replace`` is atomic on one file system), so an
interrupted or corrupted download never leaves a file that looks complete. The whole transfer
has a deadline (not only each network read a timeout), the temporary files of killed transfers
to the same destination are removed, and files get the mode ``open()`` gives (the umask).
"""

from __future__ import annotations

import glob
import hashlib
import http.client
import math
import os
import re
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ENV_VAR = "MINITORCH_CV_DATA"
CHUNK = 1 << 20
DEADLINE_SECONDS = 3600.0  # a whole download (CIFAR-10 is 170 MB)
STALE_AFTER_SECONDS = 24 * 3600  # a temporary file this old is stale even if its pid lives


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


def create_temp(folder: Path, name: str) -> tuple[int, Path]:
    """A new file ``.NAME.PID.RANDOM.part`` in ``folder`` for writing, and its path.

    Its mode is ``0o666`` minus the umask, as ``open()`` gives (``tempfile.mkstemp`` makes
    ``0o600``, which left downloaded datasets unreadable to the rest of a course group). The pid
    in the name lets a later download tell a killed transfer's file from a live one.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        path = Path(folder) / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.part"
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue


def remove_stale_temps(folder: Path, name: str) -> list[Path]:
    """Remove the temporary files of earlier transfers to ``name`` that were killed: their
    process is gone, or they are older than ``STALE_AFTER_SECONDS``. Returns what was removed."""
    pattern = re.compile(rf"\.{re.escape(name)}\.(\d+)\.[0-9a-f]{{8}}\.part")
    removed = []
    for path in Path(folder).glob(f".{glob.escape(name)}.*.part"):
        match = pattern.fullmatch(path.name)
        if match is None or int(match.group(1)) == os.getpid():
            continue  # not ours, or this process's own (another thread may be writing it)
        try:
            stale = time.time() - path.stat().st_mtime > STALE_AFTER_SECONDS
            if not stale:
                try:
                    os.kill(int(match.group(1)), 0)
                except ProcessLookupError:
                    stale = True
                except PermissionError:  # alive, another user's
                    pass
            if stale:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed


class _DeadlinePassed(Exception):
    pass


def _fetch(url: str, folder: Path, name: str, timeout: float, give_up_at: float):
    """Stream ``url`` into a temporary file in ``folder``; return (path, md5 of the bytes).

    ``timeout`` bounds each network wait, ``give_up_at`` (a ``time.monotonic()`` value) the
    whole transfer: ``read1`` returns whatever has arrived, so a server that trickles bytes
    is checked against the deadline after every few bytes, not only when a read times out.
    """
    fd, tmp = create_temp(folder, name)
    try:
        digest = hashlib.md5(usedforsecurity=False)
        wait = max(0.001, min(timeout, give_up_at - time.monotonic()))
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=wait) as response:
            while True:
                if time.monotonic() > give_up_at:
                    raise _DeadlinePassed()
                chunk = response.read1(CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
    except BaseException:
        os.remove(tmp)
        raise
    return tmp, digest.hexdigest()


def download_file(
    urls: Sequence[str], destination, md5: str, timeout: float = 60.0, quiet: bool = False,
    deadline: float | None = DEADLINE_SECONDS,
) -> Path:
    """Fetch the first of ``urls`` whose bytes have ``md5`` and move it to ``destination``.

    Every mirror is tried in turn. A failed transfer or a wrong checksum deletes the temporary
    file, so on error nothing half-written remains; the error lists what each mirror did.
    Temporary files that killed transfers to the same destination left behind are removed
    first. ``timeout`` bounds each network wait; ``deadline`` (seconds, ``None`` for none) the
    whole call, over all mirrors, so a server that sends a byte now and then cannot hold it
    forever (it may overrun by at most one ``timeout``).
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(destination.parent, destination.name)
    give_up_at = time.monotonic() + (math.inf if deadline is None else deadline)
    failures = []
    for url in urls:
        if time.monotonic() > give_up_at:
            failures.append(f"  {url}: not tried, the deadline of {deadline} s had passed")
            continue
        if not quiet:
            print(f"downloading {url} -> {destination}", flush=True)
        try:
            tmp, got = _fetch(url, destination.parent, destination.name, timeout, give_up_at)
        except _DeadlinePassed:
            failures.append(f"  {url}: still transferring when the deadline of {deadline} s "
                            "passed (a slow or stalled server; raise deadline= to wait longer)")
            continue
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
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
