"""Process-wide switches of the compute backends, named as torch's ``torch.backends``.

- ``backends.conv``: which convolution algorithm runs (``algorithm``, ``benchmark``).
- ``backends.cudnn``, ``backends.mps``: torch's switches that course code reads or sets.
"""

from . import conv, cudnn, mps  # noqa: F401
