"""`batch-emulator` / `python -m emulator`: read flags, build the app, print the banner, serve.

SIGINT and SIGTERM both stop the server the same way: the engine loop ends and the executor stops
and removes what it started, so `docker stop`, a service manager or a test's `terminate()` leave no
job container or process behind.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
from typing import Any

from emulator.config import DEFAULT_PORT, EXECUTOR_KINDS, Settings

log = logging.getLogger("emulator")

WILDCARD_HOSTS = ("0.0.0.0", "", "::")
DASHBOARD_PATH = "/_emulator/ui/"  # emulator.dashboard.UI_PREFIX; not imported: flask loads late
# Files container runtimes create in every container (Docker, Podman).
CONTAINER_MARKERS = ("/.dockerenv", "/run/.containerenv")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="batch-emulator", description="A local AWS Batch emulator that really runs jobs."
    )
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT}; 0 picks a free port)")
    parser.add_argument("--region", help="region for unsigned requests (default us-east-1)")
    parser.add_argument("--account-id", dest="account_id", help="account id (default 123456789012)")
    parser.add_argument(
        "--executor",
        choices=EXECUTOR_KINDS,
        help="how jobs run (default auto); kubernetes: every job as a pod on a cluster",
    )
    parser.add_argument("--max-running", dest="max_running", type=int, help="running attempts at once")
    parser.add_argument(
        "--state-dir",
        dest="state_dir",
        metavar="DIR",
        help="keep resources, jobs and logs in DIR (SQLite) so that a restart resumes them (default: memory)",
    )
    parser.add_argument(
        "--kube-context",
        dest="kube_context",
        metavar="[CLUSTER=]CONTEXT",
        help="kubeconfig context that runs the pods of EKS compute environments (CLUSTER: an eksClusterArn "
        "or cluster name; comma-separated; default: the current context); see --executor kubernetes",
    )
    parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig to read (default: $KUBECONFIG)")
    parser.add_argument("--gpus", type=int, help="GPUs jobs may use (default: what nvidia-smi lists, else 0)")
    parser.add_argument(
        "--min-timeout-seconds",
        dest="min_timeout_seconds",
        type=int,
        help="lowest attemptDurationSeconds accepted (default 60, as on AWS)",
    )
    parser.add_argument(
        "--mnp-stop-grace-seconds",
        dest="mnp_stop_grace_seconds",
        type=_seconds,
        help="how long the other nodes of a multi-node job may run on after its main node exited "
        "(default 5; 0 stops them at once)",
    )
    parser.add_argument(
        "--bootstrap",
        action="store_true",
        default=None,
        help="create a compute environment, job queue and job definition named 'default' at start",
    )
    parser.add_argument(
        "--public-url",
        dest="public_url",
        help="URL jobs are given to call the emulator back (default: derived from host and port)",
    )
    parser.add_argument(
        "--auth",
        dest="auth",
        action="append",
        metavar="ACCESS_KEY_ID:SECRET",
        help="verify SigV4 signatures with this key pair (repeatable)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help="allow binding a non-loopback address without --auth",
    )
    for flag, what in (
        ("--deny-privileged", "privileged containers"),
        ("--deny-host-mounts", "host-path volumes"),
        ("--deny-devices", "host devices"),
    ):
        parser.add_argument(
            flag, action="store_true", default=None, help=f"refuse job definitions that ask for {what}"
        )
    parser.add_argument(
        "--validate-references",
        dest="validate_references",
        action="store_true",
        default=None,
        help="check that the IAM roles, instance profiles, subnets and security groups compute "
        "environments and job definitions name exist in the account",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    return parser.parse_args(argv)


def _seconds(text: str) -> float:
    """A duration flag: a number of seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, not {text!r}")
    return value


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {k: v for k, v in vars(args).items() if k not in ("log_level", "auth")}
    if args.auth:
        overrides["auth_keys"] = ",".join(args.auth)
    return Settings.from_environment().with_overrides(**overrides)


def is_in_container() -> bool:
    return any(os.path.exists(marker) for marker in CONTAINER_MARKERS)


def container_address() -> str | None:
    """This container's address on its network, which sibling job containers can reach; None
    when the host name does not resolve to a non-loopback address."""
    try:
        address = socket.gethostbyname(socket.gethostname())
    except OSError:
        return None
    return None if address.startswith("127.") else address


def callback_url(settings: Settings) -> str:
    """The URL jobs call back. Inside a container bound to every interface, 127.0.0.1 would be
    each job's own loopback, so jobs get the server container's own address instead."""
    if settings.public_url:
        return settings.public_url
    if settings.host in WILDCARD_HOSTS and is_in_container():
        address = container_address()
        if address is not None:
            return f"http://{address}:{settings.port}"
    return ""


def state_line(settings: Settings) -> str:
    if not settings.state_dir:
        return "  state:     in memory (a restart forgets every resource, job and log)"
    path = os.path.join(os.path.abspath(settings.state_dir), "emulator.sqlite3")
    return f"  state:     {path} (a restart resumes every resource, job and log)"


def banner(url: str, settings: Settings, executor_name: str, public_url: str) -> list[str]:
    """What to print at start: where it serves, how it runs jobs, and copy-paste client setup."""
    lines = [
        f"batch-emulator: AWS Batch and CloudWatch Logs on {url}",
        "  every other AWS service moto implements: on the same endpoint, through moto",
        f"  dashboard: {url}{DASHBOARD_PATH}"
        + ("  (sign in with an --auth access key id and secret)" if settings.auth_keys else ""),
        f"  executor:  {executor_name}",
        f"  region:    {settings.region}    account: {settings.account_id}",
        state_line(settings),
    ]
    if public_url and public_url != url:
        lines.append(f"  jobs call back at {public_url}")
    if settings.bootstrap:
        lines.append("  bootstrap: compute environment, job queue and job definition named 'default'")
    lines += [
        "  boto3:",
        f'    boto3.client("batch", endpoint_url="{url}", region_name="{settings.region}",',
        '                 aws_access_key_id="test", aws_secret_access_key="test")',
        "  AWS CLI (v1.29+/v2.13+ read the endpoint variables; older ones take --endpoint-url):",
        f"    export AWS_ENDPOINT_URL_BATCH={url} AWS_ENDPOINT_URL_CLOUDWATCH_LOGS={url}",
        f"    export AWS_ENDPOINT_URL={url}  # every service",
        f"    export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={settings.region}",
    ]
    if settings.bootstrap:
        lines.append("    aws batch submit-job --job-name hello --job-queue default --job-definition default")
    else:
        lines.append("    aws batch describe-job-queues")
    return lines


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """Unwind serve_forever() exactly as Ctrl-C does; a second SIGTERM (`timeout`, a process
    group kill) must not interrupt the shutdown that the first began."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    settings = settings_from(args)
    refusal = settings.bind_refusal()
    if refusal is not None:
        print(f"batch-emulator: {refusal}", file=sys.stderr)
        return 2

    from emulator.app import close_app, create_app, runtime_of
    from emulator.executors.kubernetes.clusters import KubernetesUnavailableError
    from emulator.serving import start_callback_listener, tune_garbage_collector
    from emulator.stores.sqlite import StateDirectoryInUseError
    from emulator.testing.server import ServerThread

    # Bind first, so port 0 resolves before the app learns the URL jobs should call back.
    server = ServerThread.bind(settings.host, settings.port)
    settings = settings.with_overrides(port=server.port)
    settings = settings.with_overrides(public_url=callback_url(settings) or None)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        app = create_app(settings)
    except (StateDirectoryInUseError, KubernetesUnavailableError) as error:
        print(f"batch-emulator: {error}", file=sys.stderr)
        return 2  # the socket closes with the process; serve_forever never ran, so no shutdown()
    tune_garbage_collector()
    try:
        server.mount(app)
        runtime = runtime_of(app)
        executor_name = f"{runtime.settings.executor} ({type(runtime.executor.inner).__name__})"
        callback_listener = start_callback_listener(app, settings, type(runtime.executor.inner).__name__)
        print("\n".join(banner(server.url, settings, executor_name, settings.public_url)), flush=True)
        try:
            server.serve_forever()
        finally:
            server.stop()  # serve_forever has returned, so this only closes the socket
            if callback_listener is not None:
                callback_listener.stop()
    except KeyboardInterrupt:
        log.info("stopping: ending the engine loop and the jobs still running")
    finally:
        close_app(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
