"""CIFAR-10 from its official python batches (Krizhevsky 2009): 50,000 train, 10,000 test.

The folder ``cifar-10-batches-py/`` holds ``data_batch_1`` .. ``data_batch_5``, ``test_batch``
and ``batches.meta``. Each batch is a pickled dict: ``b"data"`` is ``uint8 (n, 3072)`` (each
row the red, green and blue 32x32 planes), ``b"labels"`` a list of ints; ``batches.meta`` has
``b"label_names"``.

Pickle is how the format is defined, and unpickling can run arbitrary code. So the batches are
read with ``SafeUnpickler``, which refuses every global except the few NumPy functions that
rebuild an ``ndarray`` (``_reconstruct``, ``_frombuffer``, ``ndarray``, ``dtype``, ``scalar``)
and ``_codecs.encode`` (how Python 3 pickles bytes in old protocols): dicts, lists, strings
and numbers need no globals at all. A file asking for anything
else (``os.system``, ``builtins.eval``, ...) raises ``pickle.UnpicklingError``.
"""

from __future__ import annotations

import importlib
import os
import pickle
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import download as dl
from .vision import ImageDataset

CIFAR10_URLS = ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
CIFAR10_TGZ_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_TGZ_NAME = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"

_ALLOWED_GLOBALS = {
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    # Python 3 writes bytes in protocols 0-2 as _codecs.encode(str, "latin1"); it only turns a
    # string into bytes (Python 2's cPickle, which wrote the official files, needs no global)
    ("_codecs", "encode"),
}


class SafeUnpickler(pickle.Unpickler):
    """An Unpickler that only rebuilds NumPy arrays (see the module docstring)."""

    def find_class(self, module: str, name: str):
        # files written by NumPy 1.x (and Python 2's cPickle) name numpy.core, NumPy 2 numpy._core
        if module.startswith("numpy.core"):
            module = "numpy._core" + module[len("numpy.core") :]
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a CIFAR-10 batch only holds NumPy arrays, "
                "lists and strings, so this file is not one (or has been tampered with)"
            )
        return getattr(importlib.import_module(module), name)


def load_batch(path) -> dict:
    """Unpickle one CIFAR batch with ``SafeUnpickler``; keys stay ``bytes`` as in the file."""
    with open(path, "rb") as f:
        return SafeUnpickler(f, encoding="bytes").load()


class CIFAR10(ImageDataset):
    """CIFAR-10: ``data`` is ``uint8 (N, 32, 32, 3)`` (HWC, as torchvision), ``targets`` int64.

    Args:
        root: folder holding ``cifar-10-batches-py/``; then ``$MINITORCH_CV_DATA``, then the
            user cache are searched.
        train: the five training batches, else ``test_batch``.
        transform, target_transform: as ``MNIST`` (``ToTensor()`` gives ``(3, 32, 32)``).
        download: fetch the official tarball (md5-checked) and unpack it when not found.
    """

    train_list = [f"data_batch_{i}" for i in range(1, 6)]
    test_list = ["test_batch"]
    meta = "batches.meta"

    def __init__(
        self,
        root=None,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
    ):
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        names = (self.train_list if train else self.test_list) + [self.meta]
        roots = dl.search_roots(root)
        folder, tried = dl.find_folder(roots, [FOLDER], names)
        if folder is None and download:
            folder = download_cifar10(roots[0])
        if folder is None:
            raise dl.DatasetNotFoundError(
                dl.not_found_message("CIFAR10", tried, names, roots[0] / FOLDER)
            )
        self.folder = folder
        images, labels = [], []
        for name in names[:-1]:
            batch = load_batch(folder / name)
            data = np.asarray(batch[b"data"], dtype=np.uint8)
            if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
                raise ValueError(f"{folder / name}: data has shape {data.shape}, not (n, 3072)")
            images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))  # -> (n, H, W, C)
            labels.append(np.asarray(batch[b"labels"], dtype=np.int64))
        self.data = np.ascontiguousarray(np.concatenate(images))
        self.targets = np.concatenate(labels)
        if len(self.data) != len(self.targets):
            raise ValueError(f"{folder}: {len(self.data)} images but {len(self.targets)} labels")
        meta = load_batch(folder / self.meta)
        self.classes = [name.decode() for name in meta[b"label_names"]]


def download_cifar10(root: Path) -> Path:
    """Fetch the official tarball into ``root``, md5-checked, and unpack the batches folder.

    Only regular files directly inside ``cifar-10-batches-py/`` are unpacked (no links, no
    absolute or ``..`` paths), each written to a temporary name and renamed into place.
    """
    root = Path(root)
    archive = root / CIFAR10_TGZ_NAME
    if not archive.is_file() or dl.md5_file(archive) != CIFAR10_TGZ_MD5:
        dl.download_file(CIFAR10_URLS, archive, CIFAR10_TGZ_MD5)
    target = root / FOLDER
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            folder, _, name = member.name.partition("/")
            if not member.isfile() or folder != FOLDER or not name or "/" in name or ".." in name:
                continue
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target)
            try:
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(tar.extractfile(member), out)
                os.replace(tmp, target / name)
            except BaseException:
                os.remove(tmp)
                raise
    return target
