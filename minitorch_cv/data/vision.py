"""Image classification datasets: MNIST, Fashion-MNIST (IDX files) and the embedded subset.

Each keeps the whole split in memory as ``data`` (``uint8``, ``(N, H, W)``) and ``targets``
(``int64``, ``(N,)``), with ``classes`` naming the labels, as torchvision's. Files are looked
for under ``root``, then ``$MINITORCH_CV_DATA``, then the user cache (see ``download.py``), in
our shared layout ``ROOT/mnist/*.gz`` / ``ROOT/fashion-mnist/*.gz`` or torchvision's
``ROOT/MNIST/raw/*.gz`` / ``ROOT/FashionMNIST/raw/*.gz``.

``FashionMNIST()`` with no ``root``, no files found and no download asked for falls back to
the class-balanced subset shipped in the package (``EmbeddedFashionMNIST``), so lessons run
offline on a fresh install; it says so once.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..autograd.tensor import Tensor
from . import download as dl
from .dataset import Dataset
from .idx import IMAGES_MAGIC, LABELS_MAGIC, IDXFormatError, read_idx
from .image import hwc_to_pil
from .transform_base import apply_batch, batch_safe

# Mirrors are module-level so tests (and users behind a proxy) can replace them.
MNIST_MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]
FASHION_MNIST_MIRRORS = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]

EMBEDDED_PATH = Path(__file__).parent / "embedded" / "fashion_mnist_subset.npz"


def _hwc(image: np.ndarray) -> np.ndarray:
    return image[..., None] if image.ndim == 2 else image


class ImageDataset(Dataset):
    """In-memory images and integer labels, with torchvision's ``transform`` arguments.

    ``dataset[i]`` is ``(image, target)`` as torchvision's: the image is a PIL image (mode
    ``L`` or ``RGB``) passed through ``transform`` (``ToTensor()`` makes it a float Tensor),
    the target an ``int`` passed through ``target_transform``. ``get_batch`` does the same for
    many indices at once, when the transform starts with ``ToTensor`` (``batch_safe``).
    """

    classes: list[str] = []
    transform: Callable | None = None
    target_transform: Callable | None = None
    tensor_attributes = False  # data and targets as Tensors (torchvision's MNIST family)
    _data: np.ndarray
    _targets: np.ndarray

    @property
    def data(self):
        """The images, ``uint8 (N, H, W[, C])``: a Tensor where torchvision has one (MNIST,
        Fashion-MNIST), a NumPy array where it has one (CIFAR-10); memory is shared."""
        return Tensor(self._data) if self.tensor_attributes else self._data

    @data.setter
    def data(self, value) -> None:
        self._data = value.array if isinstance(value, Tensor) else np.asarray(value)

    @property
    def targets(self):
        """The labels, ``int64 (N,)``, a Tensor or an array as ``data``."""
        return Tensor(self._targets) if self.tensor_attributes else self._targets

    @targets.setter
    def targets(self, value) -> None:
        self._targets = value.array if isinstance(value, Tensor) else np.asarray(value)

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, index):
        image, target = hwc_to_pil(_hwc(self._data[index])), int(self._targets[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    @property
    def get_batch(self):
        # Only when the whole batch can be transformed at once with the same result as image by
        # image (``batch_safe``); otherwise the DataLoader goes through __getitem__.
        if self.transform is None or not batch_safe(self.transform):
            raise AttributeError(f"{type(self).__name__}'s transform works image by image")
        return self._get_batch

    def _get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        images = apply_batch(self.transform, self._data[indices])
        targets = self._targets[indices]
        if self.target_transform is not None:
            targets = np.stack([np.asarray(self.target_transform(int(t))) for t in targets])
        return images, targets

    def __repr__(self) -> str:
        split = "train" if getattr(self, "train", True) else "test"
        return f"{type(self).__name__}(split={split}, n={len(self)}, shape={self._data.shape[1:]})"


class MNIST(ImageDataset):
    """The MNIST handwritten digits (LeCun, Cortes and Burges): 60,000 train, 10,000 test.

    Args:
        root: folder holding ``mnist/`` or torchvision's ``MNIST/raw/`` with the four IDX files,
            ``.gz`` or uncompressed; see the module doc.
        train: the training split, else the test split.
        transform: applied to each image, a PIL image of mode ``L`` (``ToTensor()`` gives a
            ``float32 (1, 28, 28)`` Tensor in [0, 1]).
        target_transform: applied to each integer label.
        download: fetch the official files (md5-checked) when they are not found.
    """

    folders = ("mnist", "MNIST/raw")
    tensor_attributes = True
    embedded: Path | None = None  # a packaged subset to fall back on, if the dataset has one
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = [
        f"{d} - {name}"
        for d, name in enumerate("zero one two three four five six seven eight nine".split())
    ]

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
        self.root = root
        folder, (images_name, labels_name) = self._locate(root, download)
        self.folder = folder
        if folder is None:  # only a dataset with an embedded subset gets here
            _warn_embedded_once(type(self).__name__)
            self.data, self.targets = load_embedded(self.train, self.embedded)
            return
        images = read_idx(folder / images_name, IMAGES_MAGIC)
        labels = read_idx(folder / labels_name, LABELS_MAGIC)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise IDXFormatError(
                f"{folder}: {images_name} has shape {images.shape} and {labels_name} "
                f"{labels.shape}; expected (N, H, W) images and N labels"
            )
        self.data, self.targets = images, labels.astype(np.int64)

    @classmethod
    def mirrors(cls) -> list[str]:
        return MNIST_MIRRORS

    def split_files(self) -> tuple[str, str]:
        prefix = "train" if self.train else "t10k"
        return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"

    def _locate(self, root, download: bool) -> tuple[Path | None, tuple[str, str]]:
        """The folder holding the split's files and their names (``.gz`` or, as torchvision
        leaves them after its download, uncompressed)."""
        roots = dl.search_roots(root)
        needed = self.split_files()
        folder, tried = dl.find_folder(roots, self.folders, needed)
        if folder is not None:
            return folder, needed
        plain = tuple(name.removesuffix(".gz") for name in needed)
        folder, _ = dl.find_folder(roots, self.folders, plain)
        if folder is not None:
            return folder, plain
        if download:
            return self.download(roots[0] / self.folders[0]), needed
        if root is None and self.embedded is not None and self.embedded.is_file():
            return None, needed
        target = roots[0] / self.folders[0]
        raise dl.DatasetNotFoundError(
            dl.not_found_message(type(self).__name__, tried, needed, target)
        )

    def download(self, folder: Path) -> Path:
        """Fetch every missing file of the dataset into ``folder``, md5-checked."""
        for name, md5 in self.resources:
            if not (folder / name).is_file():
                dl.download_file([m + name for m in self.mirrors()], folder / name, md5)
        return folder

    @property
    def is_embedded(self) -> bool:
        """True when the packaged subset stands in for missing files."""
        return self.folder is None


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando Research, Xiao et al. 2017, MIT licence): 28x28 clothing images.

    Same arguments and files as ``MNIST``, under ``fashion-mnist/`` or ``FashionMNIST/raw/``.
    With ``root=None``, no files found and ``download=False``, the embedded class-balanced
    subset (1,000 train / 100 test images per class) is used instead, with a warning.
    """

    folders = ("fashion-mnist", "FashionMNIST/raw")
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ]

    embedded = EMBEDDED_PATH

    @classmethod
    def mirrors(cls) -> list[str]:
        return FASHION_MNIST_MIRRORS


class EmbeddedFashionMNIST(ImageDataset):
    """The class-balanced Fashion-MNIST subset shipped in the package (works offline).

    10,000 train images (1,000 per class) from the official training set and 1,000 test
    images (100 per class) from the official test set, chosen by a seeded draw in
    ``scripts/make_embedded_subset.py``; the npz records the source files' md5 values and the
    indices taken from them.
    """

    classes = FashionMNIST.classes
    tensor_attributes = True

    def __init__(
        self,
        train: bool = True,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ):
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.data, self.targets = load_embedded(train)


def load_embedded(train: bool = True, path=EMBEDDED_PATH) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (N, 28, 28), labels int64 (N,))`` of the embedded subset's split."""
    split = "train" if train else "test"
    with np.load(path, allow_pickle=False) as archive:
        return archive[f"{split}_images"], archive[f"{split}_labels"].astype(np.int64)


_embedded_warned = False


class EmbeddedDataWarning(UserWarning):
    """The embedded Fashion-MNIST subset stands in for the full dataset."""


def _warn_embedded_once(name: str) -> None:
    global _embedded_warned
    if _embedded_warned:
        return
    _embedded_warned = True
    warnings.warn(
        f"{name}: no data folder found, using the embedded subset (10,000 train / 1,000 "
        "test images). For the full 70,000 images pass root=FOLDER (command line: --data-dir), "
        f"set {dl.ENV_VAR}, or pass download=True.",
        EmbeddedDataWarning,
        stacklevel=3,
    )
