"""Step Functions' Batch integration: `arn:aws:states:::batch:submitJob(.sync)` runs on our Batch.

moto's Step Functions interpreter (moto.stepfunctions.parser) runs state machines when moto's
config says `{"stepfunctions": {"execute_state_machine": true}}`, and calls the services a task
names through `boto_client_for`: a boto3 client for `http://localhost:{MOTO_PORT}` with the
access key "ak". Three things make that reach this emulator's Batch:

- **Execution on.** `enable_execution` sets that config when moto is first used (a later
  `POST /moto-api/config` may turn it off again, as on moto's own server).
- **The port.** `MOTO_PORT` is process-wide: each Step Functions request claims it for the port
  it arrived on (`claim_callback_port`), so the tasks of a state machine call the emulator that
  last served Step Functions, and an emulator that closes gives it back (`release_callback_port`)
  to the last one still open. The key "ak" is no 12-digit account id, so our account rule puts
  the job in the default account.
- **The casing.** Step Functions takes the request in PascalCase (`JobName`, `ContainerOverrides`)
  and gives the result in PascalCase (`JobId`, `Status`, `Container.ExitCode`), but moto 5.2's
  interpreter passes both through unchanged: boto3 rejects `JobName`, and the `.sync` poll reads
  `JobId` from a response that has `jobId`. `wire_batch_tasks` gives moto's Batch task the
  model-driven conversion its base class already has helpers for (`_to_boto_request`,
  `_from_boto_response`), for Batch only, so moto's other integrations behave as moto made them.

With that, `.sync` polls DescribeJobs every 0.5 s; the task succeeds with the job's DescribeJobs
description and fails with `States.TaskFailed`, the description as its cause, when the job fails.

moto's reset leaves executions running (their threads would poll DescribeJobs forever for a job
the reset forgot), so `stop_running_executions` stops them first.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import threading
from functools import cache
from typing import Any

from botocore import xform_name
from botocore.model import OperationModel

from emulator.protocol.specs import BATCH, load_service_model

log = logging.getLogger(__name__)

PORT_VARIABLE = "MOTO_PORT"
PARSER_MODELS = "moto.stepfunctions.parser.models"
BATCH_TASK_MODULE = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch"
)


class _CallbackPorts:
    """MOTO_PORT is one per process, and emulators in a process open and close in any order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ports: list[int] = []  # oldest first: MOTO_PORT names the last
        self._before: str | None = None  # MOTO_PORT before the first claim

    def claim(self, port: int) -> None:
        with self._lock:
            if not self._ports:
                self._before = os.environ.get(PORT_VARIABLE)
            if port in self._ports:
                self._ports.remove(port)
            self._ports.append(port)
            os.environ[PORT_VARIABLE] = str(port)

    def release(self, port: int) -> None:
        with self._lock:
            if port not in self._ports:
                return
            self._ports.remove(port)
            if self._ports:
                os.environ[PORT_VARIABLE] = str(self._ports[-1])
            elif self._before is None:
                os.environ.pop(PORT_VARIABLE, None)
            else:
                os.environ[PORT_VARIABLE] = self._before


_CALLBACK_PORTS = _CallbackPorts()


def claim_callback_port(port: int) -> None:
    """Point moto's interpreter at the emulator serving on `port`."""
    _CALLBACK_PORTS.claim(port)


def release_callback_port(port: int) -> None:
    """The emulator on `port` is closing: MOTO_PORT goes back to the port of the last one still
    open that claimed it, or to what it was before any emulator claimed it."""
    _CALLBACK_PORTS.release(port)


@cache
def enable_execution() -> None:
    """Once per process, when moto is first used."""
    from moto.core.config import default_user_config

    default_user_config["stepfunctions"] = {
        **default_user_config.get("stepfunctions", {}),
        "execute_state_machine": True,
    }


@cache
def wire_batch_tasks() -> None:
    """Once per process, before moto's Step Functions serves its first request."""
    import importlib

    task_class = importlib.import_module(BATCH_TASK_MODULE).StateTaskServiceBatch
    task_class._normalise_parameters = _to_batch_request
    task_class._normalise_response = _from_batch_response


def _to_batch_request(
    task: Any, parameters: dict, boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    """`{"JobName": ..., "ContainerOverrides": {"Command": [...]}}` -> boto3's member names."""
    task._to_boto_request(parameters, _operation(task, service_action_name).input_shape)


def _from_batch_response(
    task: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    """boto3's `{"jobId": ..., "container": {"exitCode": 0}}` -> `{"JobId": ..., "Container": {"ExitCode": 0}}`,
    in place; the keys of maps (parameters, tags) and every value are left as they are."""
    task._from_boto_response(response, _operation(task, service_action_name).output_shape)


def _operation(task: Any, service_action_name: str | None) -> OperationModel:
    """The Batch operation of the task (`submitJob`) or of the named action (`describe_jobs`)."""
    wanted = task._get_boto_service_action(service_action_name)
    model = load_service_model(BATCH)
    return model.operation_model(next(name for name in model.operation_names if xform_name(name) == wanted))


def stop_running_executions() -> None:
    """Stop every running execution of moto's interpreter in this process (before a reset)."""
    models = sys.modules.get(PARSER_MODELS)
    if models is None:
        return
    now = datetime.datetime.now(tz=datetime.UTC)
    for _account, _region, backend in models.stepfunctions_parser_backends.iter_backends():
        for state_machine in list(backend.state_machines):
            for execution in list(state_machine.executions):
                if getattr(execution, "exec_worker", None) is not None and _is_running(execution):
                    execution.stop(stop_date=now, error="States.Aborted", cause="the emulator was reset")


def _is_running(execution: Any) -> bool:
    status = getattr(execution, "exec_status", None)
    return getattr(status, "value", status) == "RUNNING"
