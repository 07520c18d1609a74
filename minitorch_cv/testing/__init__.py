"""Testing tools shipped with the package, for students too.

- ``gradcheck``: is a backward the derivative of its forward (finite differences, float64)?
- ``assert_matches_torch``: forward values and every gradient against PyTorch, in one call.
- ``strategies``: hypothesis strategies (imported on demand: needs ``hypothesis``).
"""

from .gradcheck import GradcheckError, gradcheck
from .torch_compare import TOLERANCES, assert_matches_torch

__all__ = ["GradcheckError", "TOLERANCES", "assert_matches_torch", "gradcheck"]
