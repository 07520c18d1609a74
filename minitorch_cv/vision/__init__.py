"""torchvision's names: ``import minitorch_cv.vision as torchvision``.

- ``datasets``: ``MNIST``, ``FashionMNIST``, ``CIFAR10`` (torchvision's arguments);
- ``transforms``: ``Compose``, ``ToTensor``, ``Normalize``, ``Resize``, ``RandomCrop``, ...;
- ``utils``: ``make_grid``, ``save_image``.

So ``from torchvision import datasets, transforms`` becomes
``from minitorch_cv.vision import datasets, transforms``. See ``docs/data.md``.
"""

from . import datasets, transforms, utils

__all__ = ["datasets", "transforms", "utils"]
