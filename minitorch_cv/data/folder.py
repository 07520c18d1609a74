"""``ImageFolder``: images sorted into one folder per class, as ``torchvision.datasets``.

``root/ants/001.jpg``, ``root/bees/xyz.png`` -> classes ``["ants", "bees"]`` (sorted), each
file a sample ``(PIL image in RGB, class index)``. Files are read when indexed, so a folder of
any size costs only its list of paths in memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .dataset import Dataset
from .image import pil_module

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def pil_loader(path) -> object:
    """Open an image file as an RGB PIL image (torchvision's default loader)."""
    with open(path, "rb") as f:
        return pil_module().open(f).convert("RGB")


def find_classes(directory) -> tuple[list[str], dict[str, int]]:
    """The sorted class folder names of ``directory`` and their indices."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


class DatasetFolder(Dataset):
    """Samples ``root/<class>/**/<file>`` with an allowed extension, read by ``loader``.

    Args:
        root: the folder of class folders.
        loader: ``path -> sample``.
        extensions: allowed file name endings (lower case), or use ``is_valid_file``.
        transform, target_transform: applied to the sample and to the class index.
        is_valid_file: ``path -> bool``, instead of ``extensions``.
        allow_empty: accept class folders without any valid file.
    """

    def __init__(self, root, loader: Callable, extensions=None, transform=None,
                 target_transform=None, is_valid_file: Callable | None = None,
                 allow_empty: bool = False):
        if (extensions is None) == (is_valid_file is None):
            raise ValueError("Both extensions and is_valid_file cannot be None or not None at "
                             "the same time")
        self.root = str(root)
        self.loader = loader
        self.extensions = extensions
        self.transform = transform
        self.target_transform = target_transform
        self.classes, self.class_to_idx = find_classes(self.root)
        valid = is_valid_file or (lambda path: path.lower().endswith(tuple(extensions)))
        self.samples = []
        empty = []
        for name in self.classes:
            files = sorted(str(path) for path in Path(self.root, name).rglob("*")
                           if path.is_file() and valid(str(path)))
            self.samples.extend((path, self.class_to_idx[name]) for path in files)
            if not files:
                empty.append(name)
        if empty and not allow_empty:
            allowed = f"Supported extensions are: {', '.join(extensions)}" if extensions else ""
            raise FileNotFoundError(
                f"Found no valid file for the classes {', '.join(empty)} in {self.root}. {allowed}"
            )
        self.imgs = self.samples
        self.targets = [target for _, target in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, target = self.samples[index]
        sample = self.loader(path)
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target


class ImageFolder(DatasetFolder):
    """Image files in one folder per class; ``dataset[i]`` is ``(RGB PIL image, index)``
    passed through ``transform`` / ``target_transform``, as ``torchvision.datasets``."""

    def __init__(self, root, transform=None, target_transform=None, loader=pil_loader,
                 is_valid_file=None, allow_empty: bool = False):
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform=transform, target_transform=target_transform,
                         is_valid_file=is_valid_file, allow_empty=allow_empty)
