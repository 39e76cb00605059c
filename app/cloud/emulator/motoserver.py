"""``python -m app.cloud.emulator.motoserver``: moto's server with one fix the emulator needs.

moto 5.2.5's Step Functions front end drops the ``cause`` of ``SendTaskFailure`` (it forwards only
``error``), although its execution engine stores it.  The cause is what tells a user which card and
locator failed, so this wrapper forwards it, then runs the stock ``moto_server``.  Nothing else of
moto is touched, and AWS needs no such thing.
"""

from __future__ import annotations

import sys
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.server import main
from moto.stepfunctions.responses import StepFunctionResponse


def _send_task_failure(self: StepFunctionResponse) -> ActionResult:
    # the parser backend (used once execution is on) takes the cause; the base class's stub does not
    backend: Any = self.stepfunction_backend
    backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                              cause=self._get_param("cause"))
    return EmptyResult()


StepFunctionResponse.send_task_failure = _send_task_failure  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])
