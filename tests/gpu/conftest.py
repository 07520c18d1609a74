"""tests/gpu: make the shared helpers in ``gpu_devices.py`` importable by the test modules
(pytest's import mode here does not put test directories on ``sys.path``)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
