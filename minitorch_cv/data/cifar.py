"""CIFAR-10 from its official python batches (Krizhevsky 2009): 50,000 train, 10,000 test.

The folder ``cifar-10-batches-py/`` holds ``data_batch_1`` .. ``data_batch_5``, ``test_batch``
and ``batches.meta``. Each batch is a pickled dict: ``b"data"`` is ``uint8 (n, 3072)`` (each
row the red, green and blue 32x32 planes), ``b"labels"`` a list of ints; ``batches.meta`` has
``b"label_names"``.

Every file passes three checks before anything is converted, and any failure is one
``CIFARFormatError`` that names the file and the fix:

1. its size (an official batch is 31 MB; more than ``MAX_FILE_BYTES`` is refused unread);
2. its md5 against the value torchvision publishes (``BATCH_MD5``), unless
   ``check_integrity=False`` (for batches you built yourself, e.g. in tests);
3. its structure, read by ``safe_pickle`` (pickle can run arbitrary code: only lists, dicts,
   strings, numbers and NumPy arrays can be made, every opcode is checked first), then the keys,
   types, shapes and label range, before the arrays are used.
"""

from __future__ import annotations

import os
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import download as dl
from . import safe_pickle
from .vision import ImageDataset

CIFAR10_URLS = ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
CIFAR10_TGZ_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_TGZ_NAME = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
# torchvision.datasets.CIFAR10's published checksums of the unpacked files
BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
    "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
}
MAX_FILE_BYTES = 64 << 20  # an official batch is 31,035,704 bytes
NUM_CLASSES = 10
PIXELS = 3 * 32 * 32


class CIFARFormatError(ValueError):
    """A CIFAR-10 file that is damaged, not the official one, or not a CIFAR-10 batch at all."""


def _fail(path: Path, problem: str, integrity_hint: bool = False) -> CIFARFormatError:
    fix = (f"Fix: delete {path.parent} and load again with download=True (or copy the "
           "official files again)")
    if integrity_hint:
        fix += "; for batches you built yourself, pass check_integrity=False"
    return CIFARFormatError(f"{path}: {problem}. {fix}.")


def _read(path: Path, check_integrity: bool) -> dict:
    """The file's dict after the size, md5 and pickle checks (module docstring, 1-3)."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _fail(path, f"{size} bytes is more than any CIFAR-10 file ({MAX_FILE_BYTES})")
    if check_integrity and path.name in BATCH_MD5:
        got = dl.md5_file(path)
        if got != BATCH_MD5[path.name]:
            raise _fail(path, f"md5 {got} is not the official {BATCH_MD5[path.name]} (a damaged "
                        "or partial copy, or not the official file)", integrity_hint=True)
    try:
        content = safe_pickle.loads(path.read_bytes())
    except safe_pickle.UnsafePickleError as exc:
        raise _fail(path, f"not a readable CIFAR-10 batch ({exc})") from exc
    if type(content) is not dict:
        raise _fail(path, f"holds a {type(content).__name__}, not a dict")
    # Python 2 pickles (the official files) have bytes keys; Python 3 ones may have str keys
    return {key.encode("utf-8", "replace") if type(key) is str else key: value
            for key, value in content.items()}


def load_batch(path, check_integrity: bool = False) -> dict:
    """One checked batch: ``b"data"`` ``uint8 (n, 3072)``, ``b"labels"`` ``int64 (n,)``.

    Raises:
        CIFARFormatError: naming the file, for any size, md5 or structure problem.
    """
    path = Path(path)
    batch = _read(path, check_integrity)
    data, labels = batch.get(b"data"), batch.get(b"labels")
    if not isinstance(data, np.ndarray):
        raise _fail(path, f"b'data' is {type(data).__name__}, not an array of images")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        raise _fail(path, f"b'data' is {data.dtype} {data.shape}, not uint8 (n, {PIXELS})")
    if isinstance(labels, np.ndarray) and labels.ndim == 1 and labels.dtype.kind in "iu":
        in_range = not len(labels) or (0 <= labels.min() and labels.max() < NUM_CLASSES)
    elif type(labels) is list and all(type(label) is int for label in labels):
        # checked as Python ints: a label of 2**70 would overflow NumPy's int64
        in_range = all(0 <= label < NUM_CLASSES for label in labels)
    else:
        raise _fail(path, f"b'labels' is {type(labels).__name__}, not a list of ints")
    if len(labels) != len(data):
        raise _fail(path, f"{len(data)} images but {len(labels)} labels")
    if not in_range:
        raise _fail(path, f"labels range over {min(labels)}..{max(labels)}, not 0..9")
    labels = np.array(labels, dtype=np.int64).reshape(-1)
    return {**batch, b"data": data, b"labels": labels}


def load_meta(path, check_integrity: bool = False) -> list[str]:
    """The ten class names of ``batches.meta`` (checked as ``load_batch``)."""
    path = Path(path)
    names = _read(path, check_integrity).get(b"label_names")
    if (type(names) is not list or len(names) != NUM_CLASSES
            or not all(type(name) is bytes and 0 < len(name) <= 100 for name in names)):
        raise _fail(path, f"b'label_names' is not a list of {NUM_CLASSES} names")
    return [name.decode("latin1") for name in names]


class CIFAR10(ImageDataset):
    """CIFAR-10: ``data`` is ``uint8 (N, 32, 32, 3)`` (HWC, as torchvision), ``targets`` int64.

    Args:
        root: folder holding ``cifar-10-batches-py/``; then ``$MINITORCH_CV_DATA``, then the
            user cache are searched.
        train: the five training batches, else ``test_batch``.
        transform, target_transform: as ``MNIST`` (``ToTensor()`` gives ``(3, 32, 32)``).
        download: fetch the official tarball (md5-checked) and unpack it when not found.
        check_integrity: compare each file's md5 with the official one (``BATCH_MD5``, as
            torchvision). ``False`` accepts batches you built yourself; their structure is
            checked all the same.

    Raises:
        CIFARFormatError: a file is damaged, not the official one, or not a CIFAR-10 batch;
            the message names the file and the fix.
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
        check_integrity: bool = True,
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
            batch = load_batch(folder / name, check_integrity)
            images.append(batch[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))  # NHWC
            labels.append(batch[b"labels"])
        self.data = np.ascontiguousarray(np.concatenate(images))
        self.targets = np.concatenate(labels)
        self.classes = load_meta(folder / self.meta, check_integrity)


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
            dl.remove_stale_temps(target, name)
            fd, tmp = dl.create_temp(target, name)
            try:
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(tar.extractfile(member), out)
                os.replace(tmp, target / name)
            except BaseException:
                os.remove(tmp)
                raise
    return target
