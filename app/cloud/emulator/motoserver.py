"""``python -m app.cloud.emulator.motoserver``: moto's server with two fixes the emulator needs.

1. moto 5.2.5's Step Functions front end drops the ``cause`` of ``SendTaskFailure`` (it forwards only
   ``error``), although its execution engine stores it.  The cause is what tells a user which card and
   locator failed, so this wrapper forwards it.
2. moto names a task whose heartbeat timed out ``States.Timeout``; AWS names it
   ``States.HeartbeatTimeout`` (which the render step retries, stopping the lost task first).  This
   wrapper gives it AWS's name.

Then it runs the stock ``moto_server``.  Nothing else of moto is touched, and AWS needs no such thing.
"""

from __future__ import annotations

import sys
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.server import main
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
from moto.stepfunctions.parser.asl.eval.callback.callback import HeartbeatTimeoutError
from moto.stepfunctions.responses import StepFunctionResponse


def _send_task_failure(self: StepFunctionResponse) -> ActionResult:
    # the parser backend (used once execution is on) takes the cause; the base class's stub does not
    backend: Any = self.stepfunction_backend
    backend.send_task_failure(self._get_param("taskToken"), error=self._get_param("error"),
                              cause=self._get_param("cause"))
    return EmptyResult()


StepFunctionResponse.send_task_failure = _send_task_failure  # type: ignore[method-assign]

_timed_out_from_error = StateTask._from_error


def _from_error(self: StateTask, env: Any, ex: Exception) -> FailureEvent:
    event: FailureEvent = _timed_out_from_error(self, env, ex)
    if not isinstance(ex, HeartbeatTimeoutError):
        return event
    name = StatesErrorNameType.StatesHeartbeatTimeout
    details: Any = event.event_details
    for spec in (details or {}).values():
        if isinstance(spec, dict) and "error" in spec:
            spec["error"] = name.to_name()
    return FailureEvent(env=env, error_name=StatesErrorName(typ=name), event_type=event.event_type,
                        event_details=details)


StateTask._from_error = _from_error  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])
