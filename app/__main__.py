"""``python -m app`` — the same as the ``reelwright`` command."""

import sys

from .cli import main

sys.exit(main())
