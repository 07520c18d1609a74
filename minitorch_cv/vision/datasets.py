"""``torchvision.datasets``: ``MNIST``, ``FashionMNIST``, ``CIFAR10`` with its arguments
(``root``, ``train``, ``transform``, ``target_transform``, ``download``), and
``ImageFolder``; implemented in ``minitorch_cv.data``."""

from ..data.cifar import CIFAR10
from ..data.folder import DatasetFolder, ImageFolder
from ..data.vision import MNIST, FashionMNIST

__all__ = ["CIFAR10", "MNIST", "DatasetFolder", "FashionMNIST", "ImageFolder"]
