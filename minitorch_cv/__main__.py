"""``python -m minitorch_cv ...`` is the same as the ``minitorch-cv`` command."""

from .cli import main

raise SystemExit(main())
