"""``python -m recorder``: render one cloud job (the ECS Fargate task's entry point)."""

from __future__ import annotations

import sys

from recorder.main import main

if __name__ == "__main__":
    sys.exit(main())
