"""torch.utils's names that a CNN course uses: ``minitorch_cv.utils.data``."""

from . import data

__all__ = ["data"]
