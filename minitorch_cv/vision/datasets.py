"""``torchvision.datasets``' image classification sets, with its arguments (``root``, ``train``,
``transform``, ``target_transform``, ``download``); implemented in ``minitorch_cv.data``."""

from ..data.cifar import CIFAR10
from ..data.vision import MNIST, FashionMNIST

__all__ = ["CIFAR10", "MNIST", "FashionMNIST"]
