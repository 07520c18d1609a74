"""Coverage-guided fuzzing of the IDX and CIFAR-10 readers with atheris (libFuzzer for Python).

    pip install -e ".[fuzz]" -c constraints.txt
    python3 scripts/fuzz_loaders.py --seconds 300            # one process, 5 minutes
    python3 -m pytest -m fuzz                                # the same, as a test (see README)

Each input is one file: its first byte chooses the reader (IDX plain, IDX gzip, CIFAR batch,
CIFAR meta), the rest is the file's content. The seed corpus holds valid files of each kind, so
mutations start deep in the formats. A reader may return a valid result or raise its one error
type (``IDXFormatError`` / ``CIFARFormatError``); any other exception, a run over ``--timeout``
seconds per input, or memory over ``--rss-mb`` is a crash: libFuzzer stops, prints the
traceback and writes the input to ``crash-*`` (``timeout-*``, ``oom-*``) in ``--artifacts``.
With ``-print_final_stats=1`` libFuzzer ends with ``stat::number_of_executed_units: N``.
"""

from __future__ import annotations

import argparse
import gzip
import pickle
import sys
import tempfile
from pathlib import Path

import atheris
import numpy as np

with atheris.instrument_imports(include=["minitorch_cv.data"]):
    from minitorch_cv.data import safe_pickle  # noqa: F401 (instrumented for coverage)
    from minitorch_cv.data.cifar import CIFARFormatError, load_batch, load_meta
    from minitorch_cv.data.idx import IDXFormatError, read_idx

KINDS = ("idx", "idx.gz", "cifar-batch", "cifar-meta")
_path: Path | None = None


def _idx(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, array.ndim])
    return header + b"".join(int(n).to_bytes(4, "big") for n in array.shape) + array.tobytes()


def seeds() -> list[bytes]:
    """Valid inputs of every kind (the first byte is the kind)."""
    idx = [_idx(np.arange(24, dtype=np.uint8).reshape(2, 3, 4)), _idx(np.arange(5, dtype=np.uint8)),
           _idx(np.array([1.5, -2.0], ">f4"), 0x0D), _idx(np.zeros((0, 3), np.uint8))]
    batch = {b"batch_label": b"b", b"labels": [3, 1], b"filenames": [b"a", b"b"],
             b"data": (np.arange(2 * 3072) % 251).astype(np.uint8).reshape(2, 3072)}
    meta = {b"label_names": [b"cat"] * 10, b"num_vis": 3072}
    out = [bytes([0]) + data for data in idx] + [bytes([1]) + data for data in idx]
    out += [bytes([2]) + pickle.dumps(batch, protocol=p) for p in (0, 2, 5)]
    out += [bytes([3]) + pickle.dumps(meta, protocol=p) for p in (0, 2)]
    return out


def one_input(data: bytes) -> None:
    if not data:
        return
    kind, body = KINDS[data[0] % len(KINDS)], data[1:]
    if kind == "idx.gz":
        body = gzip.compress(body, compresslevel=1, mtime=0)
    _path.write_bytes(body)
    try:
        if kind.startswith("idx"):
            read_idx(_path)
        elif kind == "cifar-batch":
            load_batch(_path)
        else:
            load_meta(_path)
    except (IDXFormatError, CIFARFormatError):
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--runs", type=int, default=-1, help="stop after this many inputs")
    parser.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    parser.add_argument("--rss-mb", type=int, default=2048)
    parser.add_argument("--artifacts", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    global _path
    with tempfile.TemporaryDirectory(prefix="minitorch-cv-fuzz-") as work:
        corpus = Path(work) / "corpus"
        corpus.mkdir()
        for i, seed in enumerate(seeds()):
            (corpus / f"seed{i}").write_bytes(seed)
        _path = Path(work) / "input"
        libfuzzer = [sys.argv[0], f"-max_total_time={args.seconds}", f"-runs={args.runs}",
                     f"-timeout={args.timeout}", f"-rss_limit_mb={args.rss_mb}",
                     "-max_len=8192", "-print_final_stats=1",
                     f"-artifact_prefix={args.artifacts.resolve()}/", str(corpus)]
        atheris.Setup(libfuzzer, one_input)
        atheris.Fuzz()  # exits the process: 0 when the time is up, non-zero on a crash
    return 0


if __name__ == "__main__":
    sys.exit(main())
