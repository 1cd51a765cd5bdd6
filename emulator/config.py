"""Settings: one frozen dataclass, filled from command-line flags and EMULATOR_* variables."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, fields, replace
from typing import Any

DEFAULT_PORT = 8734  # clashes with neither LocalStack (4566) nor moto (5000)
EXECUTOR_KINDS = ("auto", "docker", "process", "simulated", "kubernetes")


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    region: str = "us-east-1"
    account_id: str = "123456789012"
    executor: str = "auto"
    # Seconds a created/updated/deleted resource spends in CREATING/UPDATING/DELETING (reference §4).
    transition_seconds: float = 0.2
    # AWS's minimum `attemptDurationSeconds`; tests may lower it to exercise timeouts quickly.
    min_timeout_seconds: int = 60
    # Running attempts allowed at once on this host, whatever the compute environments allow.
    max_running: int = os.cpu_count() or 2
    # Seconds between SIGTERM and SIGKILL when a job is stopped (ECS's stop timeout).
    stop_timeout_seconds: float = 30.0
    # Seconds the other nodes of a multi-node parallel job may run on after its main node exited,
    # before they are stopped (AWS takes seconds to notice the exit); 0 stops them at once.
    mnp_stop_grace_seconds: float = 5.0
    bootstrap: bool = False
    # Emulator-only endpoints (/_emulator/...): health, reset, clock, fault injection.
    test_controls: bool = True
    # Public URL jobs use to call the emulator back; derived from host/port when empty.
    public_url: str = ""
    # Where job and service-job events are POSTed as JSON (EMULATOR_EVENT_WEBHOOK_URL); off when empty.
    event_webhook_url: str = ""
    # SigV4 verification: "AKID:SECRET,AKID2:SECRET2". Empty: any credentials are accepted.
    auth_keys: str = ""
    # Allow binding a non-loopback address without authentication.
    insecure: bool = False
    # What job definitions may ask of the host (all allowed by default, as AWS allows them).
    deny_privileged: bool = False
    deny_host_mounts: bool = False
    deny_devices: bool = False
    # Where state lives across restarts (EMULATOR_STATE_DIR): one SQLite file in this directory;
    # empty: in memory only.
    state_dir: str = ""
    # SQLite `synchronous` for the state file (EMULATOR_STATE_SYNC): NORMAL survives the server
    # being killed, FULL also a power cut (an fsync per commit).
    state_sync: str = "NORMAL"
    # Check that the roles, instance profiles, subnets and security groups compute environments and
    # job definitions name exist in the account (EMULATOR_VALIDATE_REFERENCES).
    validate_references: bool = False
    # GPUs this host offers to GPU jobs (EMULATOR_GPUS); None: as many as `nvidia-smi -L` lists, else 0.
    gpus: int | None = None
    # Kubernetes (EMULATOR_KUBE_CONTEXT, EMULATOR_KUBECONFIG): which kubeconfig context runs the pods
    # of an EKS compute environment, as "CONTEXT" for every cluster and/or "CLUSTER=CONTEXT" entries
    # (CLUSTER: an eksClusterArn or the cluster name it ends with), comma-separated; empty: the
    # kubeconfig's current context. Setting it sends EKS compute environments to the cluster under
    # any executor; `--executor kubernetes` sends every compute environment. `kubeconfig` is the
    # file to read (empty: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account).
    kube_context: str = ""
    kubeconfig: str = ""

    def resolved_gpus(self) -> int:
        return self.gpus if self.gpus is not None else detect_gpus()

    @property
    def is_loopback(self) -> bool:
        return self.host in ("localhost", "::1") or self.host.startswith("127.")

    def bind_refusal(self) -> str | None:
        """Why this configuration must not start, or None. Anyone who can reach the port can run
        containers on this host, so a non-loopback address needs SigV4 auth or an explicit
        --insecure."""
        if self.is_loopback or self.auth_keys or self.insecure:
            return None
        return (
            f"refusing to listen on {self.host} without authentication: anyone who can reach it could run "
            "containers on this host. Use --auth ACCESS_KEY_ID:SECRET, or --insecure to accept the risk."
        )

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read EMULATOR_<FIELD> variables (e.g. EMULATOR_EXECUTOR=process)."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for item in fields(cls):
            raw = environ.get(f"EMULATOR_{item.name.upper()}")
            if raw is None:
                continue
            default = item.default
            if isinstance(default, bool):
                values[item.name] = raw.lower() in ("1", "true", "yes", "on")
            elif isinstance(default, int) or item.type == "int | None":
                values[item.name] = int(raw)
            elif isinstance(default, float):
                values[item.name] = float(raw)
            else:
                values[item.name] = raw
        return cls(**values)


def detect_gpus() -> int:
    """The number of GPUs `nvidia-smi -L` lists (one line each); 0 without the tool or a driver."""
    if shutil.which("nvidia-smi") is None:
        return 0
    try:
        listed = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return 0
    if listed.returncode != 0:
        return 0
    return sum(1 for line in listed.stdout.splitlines() if line.startswith("GPU "))
