"""Build the class-balanced Fashion-MNIST subset shipped in the package.

    python scripts/make_embedded_subset.py [--data-dir ../shared/data] [--seed 0]

Reads the official IDX files (md5-checked against ``FashionMNIST.resources``), draws
``--train-per-class`` training and ``--test-per-class`` test images of every class with a
seeded generator, and writes ``minitorch_cv/data/embedded/fashion_mnist_subset.npz``: a zip of
``.npy`` members (deflate level 9, fixed timestamps, so the same inputs give the same bytes)
holding the images, labels, the indices taken from the official files, the seed and the source
md5 values. Fashion-MNIST is MIT-licensed (Zalando Research; Xiao, Rasul and Vollgraf 2017).
"""

from __future__ import annotations

import argparse
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from minitorch_cv.data.download import md5_file  # noqa: E402
from minitorch_cv.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx  # noqa: E402
from minitorch_cv.data.vision import EMBEDDED_PATH, FashionMNIST  # noqa: E402


def balanced_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """``per_class`` indices of every class, drawn without replacement, in increasing order."""
    chosen = []
    for label in range(10):
        candidates = np.flatnonzero(labels == label)
        if len(candidates) < per_class:
            raise ValueError(f"class {label} has only {len(candidates)} images")
        chosen.append(rng.choice(candidates, size=per_class, replace=False))
    return np.sort(np.concatenate(chosen))  # file order keeps the classes interleaved


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with level 9 and a fixed timestamp (byte-reproducible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=EMBEDDED_PATH)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-per-class", type=int, default=1000)
    parser.add_argument("--test-per-class", type=int, default=100)
    args = parser.parse_args(argv)

    folder = args.data_dir / "fashion-mnist"
    sources = []
    for name, expected in FashionMNIST.resources:
        got = md5_file(folder / name)
        if got != expected:
            raise SystemExit(f"{folder / name}: md5 {got}, expected the official {expected}")
        sources.append(f"{name} {got}")

    rng = np.random.default_rng(args.seed)
    arrays: dict[str, np.ndarray] = {}
    for split, prefix, per_class in [
        ("train", "train", args.train_per_class),
        ("test", "t10k", args.test_per_class),
    ]:
        images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz", IMAGES_MAGIC)
        labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", LABELS_MAGIC)
        indices = balanced_indices(labels, per_class, rng)
        arrays[f"{split}_images"] = images[indices]
        arrays[f"{split}_labels"] = labels[indices]
        arrays[f"{split}_indices"] = indices.astype(np.int32)
    arrays["seed"] = np.array(args.seed)
    arrays["source_md5"] = np.array(sources)
    arrays["classes"] = np.array(FashionMNIST.classes)
    write_npz(args.out, arrays)
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size / 1e6:.2f} MB, md5 {md5_file(args.out)})")
    for split in ("train", "test"):
        counts = np.bincount(arrays[f"{split}_labels"], minlength=10)
        print(f"  {split}: {arrays[f'{split}_images'].shape}, per class {counts.tolist()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
