"""Process-wide switches of the compute backends, named as torch's ``torch.backends``.

- ``backends.conv``: which convolution algorithm runs (``algorithm``, ``benchmark``).
"""

from . import conv
