"""Suite-wide settings.

Hypothesis: on a developer's machine every run draws new examples (that is how the batch-norm
precision bug below `test_batch_norm_forward_keeps_precision_when_invstd_is_large` was found);
in CI (`CI` set) the draws are derandomized so a landing never depends on luck. Pick a profile
by hand with `HYPOTHESIS_PROFILE=dev|ci`.
"""

import os

# Many tests run torch and our Numba kernels in one process; torch loads libgomp first, and with
# the default (spinning) wait policy its idle workers slow our parallel loops severalfold.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
