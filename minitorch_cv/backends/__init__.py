"""``minitorch_cv.backends``: torch.backends' switches that course code reads or sets."""

from . import cudnn, mps  # noqa: F401
