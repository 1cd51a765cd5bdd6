"""Id factories: random by default, predictable in tests.

Job ids are lower-case UUIDv4 strings and array children are `<parent>:<index>` (reference §2.3);
ECS task ids are 32 hex characters (§2.2, §15). The engine takes the factories as arguments so a
test can pass `SequentialIds` and know every id in advance.
"""

from __future__ import annotations

import itertools
import random
import threading
import uuid


def random_uuid() -> uuid.UUID:
    """A version-4 UUID drawn from Python's generator rather than the OS's, as `uuid.uuid4` does.

    os.urandom releases the GIL for its system call; with the engine's pass loop busy, the request
    thread then waits for the GIL to come back, up to the interpreter's switch interval (5 ms).
    Under wrk's load that wait was a quarter of a SubmitJob, which draws two ids (request and
    job), and every job draws more (task, events). These ids name things; none is a secret."""
    return uuid.UUID(int=random.getrandbits(128), version=4)


def new_request_id() -> str:
    return str(random_uuid())


def new_job_id() -> str:
    return str(random_uuid())


def new_task_id() -> str:
    return random_uuid().hex


def child_job_id(parent_job_id: str, index: int) -> str:
    return f"{parent_job_id}:{index}"


def node_job_id(parent_job_id: str, index: int) -> str:
    """Node `index` of a multi-node parallel job (reference §11)."""
    return f"{parent_job_id}#{index}"


def parent_of(job_id: str) -> str | None:
    """The array parent id of a child id (`<parent>:<i>`), None for any other id."""
    parent, sep, index = job_id.rpartition(":")
    return parent if sep and index.isdigit() else None


def job_arn(region: str, account_id: str, job_id: str) -> str:
    return f"arn:aws:batch:{region}:{account_id}:job/{job_id}"


def instance_id_for(task_id: str) -> str:
    """An EC2-shaped instance id (`i-` + 17 hex characters) derived from a task id, so a test that
    fixes task ids also knows the instance named in `Host EC2 (instance i-...) terminated.`."""
    return "i-" + (task_id + "0" * 17)[:17].lower()


class SequentialIds:
    """Callable returning `prefix` + a counter, zero-padded to `width`: `SequentialIds("job-")` gives
    job-1, job-2, ...; `SequentialIds("", width=32, hex=True)` gives 32-hex-character task ids."""

    def __init__(self, prefix: str = "", *, width: int = 0, hex: bool = False) -> None:
        self._prefix = prefix
        self._width = width
        self._format = "x" if hex else "d"
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            number = next(self._counter)
        return f"{self._prefix}{number:0{self._width}{self._format}}"
