"""Replay conformance scenarios against any AWS Batch endpoint and report every difference.

    python -m conformance.replay --endpoint http://127.0.0.1:8734 [--region us-east-1] [paths...]

The runner knows nothing about the emulator: requests go out through real boto3 (or, for inputs boto3
refuses to send, as raw HTTP signed with botocore's SigV4Auth), so the same scenarios can be replayed
against AWS itself, moto, or ours. The scenario format is described in conformance/README.md.

What it deliberately leaves out: it does not judge how long AWS takes (a step may poll with "wait"),
and it does not check anything the scenario does not state (expected bodies are subset matches, except
that an empty `{}` or `[]` must be empty).

Resources the scenarios create are torn down after each scenario (disable, wait, delete), on a best
effort basis, so a run against a real account leaves nothing behind and never reaches the quotas.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions
from botocore import xform_name

SCENARIO_DIR = Path(__file__).parent / "scenarios"

# Values a scenario can refer to as ${name}; override them with --var to replay against a real account
# (a compute environment with made-up subnets goes INVALID on AWS, and a queue can't use it).
DEFAULT_VARIABLES: dict[str, str] = {
    "subnet": "subnet-0a1b2c3d4e5f60718",
    "securityGroup": "sg-0a1b2c3d4e5f60718",
    "instanceRole": "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole",
    "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    "spotFleetRole": "arn:aws:iam::123456789012:role/aws-ec2-spot-fleet-role",
    "image": "busybox",
}

DEFAULT_WAIT_SECONDS = 600.0
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(\|url)?\}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_ANY_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+")
_ABSENT = "<ABSENT>"


@dataclass(frozen=True)
class Difference:
    """One way an endpoint's answer differed from a scenario."""

    file: str
    scenario: str
    step: int
    detail: str

    def __str__(self) -> str:
        return f"{self.file}::{self.scenario}::step {self.step}: {self.detail}"


@dataclass
class Report:
    differences: list[Difference] = field(default_factory=list)
    passed: int = 0
    failed: int = 0
    skipped_steps: int = 0
    # What the teardown could not remove (not a difference: AWS may simply be slow), for the log.
    leftovers: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """What came back for one request, in the same form for boto3 and raw steps."""

    status: int
    body: Any
    error: str | None = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    request_id: str | None = None

    def describe(self) -> str:
        if self.error is None and self.status < 400:
            return f"{self.status} {_short(self.body)}"
        return f"{self.status} {self.error} {self.message!r}"


class ScenarioError(Exception):
    """The scenario itself is malformed (unknown placeholder, bad save path, unknown operation)."""


class ClientRefused(Exception):
    """boto3 refused to send the request (ParamValidationError)."""


# --------------------------------------------------------------------------------------------------
# Placeholders and matchers


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """Replace ${name} (and ${name|url}, percent-encoded as botocore encodes a path label) everywhere.

    A string that is exactly one placeholder takes the saved value's own type, so a saved revision
    stays an integer.
    """
    if isinstance(value, dict):
        return {substitute(k, variables): substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    whole = _PLACEHOLDER.fullmatch(value)
    if whole and not whole.group(2):
        return _lookup(whole.group(1), variables)

    def one(match: re.Match[str]) -> str:
        text = str(_lookup(match.group(1), variables))
        return urllib.parse.quote(text, safe="-._~") if match.group(2) else text

    result = _PLACEHOLDER.sub(one, value)
    if "${" in _PLACEHOLDER.sub("", value):
        raise ScenarioError(f"malformed placeholder in {value!r}")
    return result


def _lookup(name: str, variables: dict[str, Any]) -> Any:
    if name not in variables:
        raise ScenarioError(f"unknown placeholder ${{{name}}}")
    return variables[name]


def match(expected: Any, actual: Any, where: str, region: str) -> list[str]:
    """Compare an expected value (with matchers) to an actual one; return one line per mismatch."""
    if isinstance(expected, str) and expected.startswith("<") and expected.endswith(">"):
        return _match_token(expected, actual, where, region)
    if isinstance(expected, dict):
        if set(expected) == {"<CONTAINS>"}:
            return _match_contains(expected["<CONTAINS>"], actual, where, region)
        if not isinstance(actual, dict):
            return [f"expected {where} to be an object, got {_short(actual)}"]
        if not expected:
            return [] if not actual else [f"expected {where} = {{}}, got {_short(actual)}"]
        problems: list[str] = []
        for key, want in expected.items():
            inner = f"{where}.{key}"
            if want == _ABSENT:
                if key in actual:
                    problems.append(f"expected {inner} to be absent, got {_short(actual[key])}")
            elif key not in actual:
                problems.append(f"expected {inner} = {_short(want)}, got nothing (member absent)")
            else:
                problems.extend(match(want, actual[key], inner, region))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"expected {where} to be a list, got {_short(actual)}"]
        if len(expected) != len(actual):
            return [f"expected {where} to have {len(expected)} item(s), got {len(actual)}: {_short(actual)}"]
        problems = []
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            problems.extend(match(want, got, f"{where}[{index}]", region))
        return problems
    if type(expected) is not type(actual) and not _both_numbers(expected, actual):
        return [f"expected {where} = {_short(expected)}, got {_short(actual)}"]
    return [] if expected == actual else [f"expected {where} = {_short(expected)}, got {_short(actual)}"]


def _both_numbers(a: Any, b: Any) -> bool:
    return all(isinstance(x, int | float) and not isinstance(x, bool) for x in (a, b))


def _match_token(token: str, actual: Any, where: str, region: str) -> list[str]:
    ok: bool
    if token == "<ANY>":
        ok = True
    elif token == "<INT>":
        ok = isinstance(actual, int) and not isinstance(actual, bool)
    elif token == "<EPOCH_MS>":
        # Milliseconds, not seconds: between 2001 and 2286.
        ok = isinstance(actual, int) and not isinstance(actual, bool) and 10**12 <= actual < 10**13
    elif token == "<UUID>":
        ok = isinstance(actual, str) and _UUID.fullmatch(actual) is not None
    elif token == "<ARN>":
        ok = isinstance(actual, str) and _ANY_ARN.fullmatch(actual) is not None
    elif token.startswith("<ARN:"):
        resource = token[len("<ARN:") : -1]
        pattern = rf"arn:aws[a-z-]*:batch:{re.escape(region)}:\d{{12}}:{re.escape(resource)}"
        ok = isinstance(actual, str) and re.fullmatch(pattern, actual) is not None
    elif token.startswith("<REGEX:"):
        ok = isinstance(actual, str) and re.fullmatch(token[len("<REGEX:") : -1], actual) is not None
    elif token == _ABSENT:
        return [f"expected {where} to be absent, got {_short(actual)}"]
    else:  # a literal string that merely looks like a token
        ok = actual == token
    return [] if ok else [f"expected {where} to match {token}, got {_short(actual)}"]


def _match_contains(wanted: list[Any], actual: Any, where: str, region: str) -> list[str]:
    if not isinstance(actual, list):
        return [f"expected {where} to be a list, got {_short(actual)}"]
    return [
        f"expected {where} to contain {_short(want)}, got {_short(actual)}"
        for want in wanted
        if not any(not match(want, item, where, region) for item in actual)
    ]


def _match_message(expected: Any, actual: str | None) -> list[str]:
    if isinstance(expected, str):
        ok = actual == expected
    elif isinstance(expected, dict) and len(expected) == 1:
        ((kind, text),) = expected.items()
        text = str(text)
        ok = (
            actual is not None
            and {
                "startswith": lambda: actual.startswith(text),
                "contains": lambda: text in actual,
                "regex": lambda: re.fullmatch(text, actual, re.DOTALL) is not None,
            }[kind]()
        )
    else:
        raise ScenarioError(f"bad message expectation {expected!r}")
    return [] if ok else [f"expected message {_short(expected)}, got {actual!r}"]


def check(expect: dict[str, Any], outcome: Outcome, region: str) -> list[str]:
    """Every way `outcome` differs from `expect` (status, error code, message, headers, body)."""
    wanted_status = expect.get("status", 400 if "error" in expect else 200)
    statuses = wanted_status if isinstance(wanted_status, list) else [wanted_status]
    if outcome.status not in statuses:
        shown = wanted_status if len(statuses) > 1 else statuses[0]
        what = f"{expect['error']} " if "error" in expect else ""
        return [f"expected status {what}{shown}, got {outcome.describe()}"]
    problems: list[str] = []
    if "error" in expect and outcome.error != expect["error"]:
        problems.append(f"expected error {expect['error']}, got {outcome.error!r} ({outcome.message!r})")
    if "message" in expect:
        problems.extend(_match_message(expect["message"], outcome.message))
    for name, want in expect.get("headers", {}).items():
        got = outcome.headers.get(name.lower())
        if want == _ABSENT:
            if got is not None:
                problems.append(f"expected header {name} to be absent, got {got!r}")
        elif got is None:
            problems.append(f"expected header {name}, got none")
        else:
            problems.extend(match(want, got, f"header {name}", region))
    if "body" in expect:
        problems.extend(match(expect["body"], outcome.body, "body", region))
    return problems


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def extract(body: Any, path: str) -> Any:
    """Follow a dotted path (`jobDefinitions.0.revision`) into a response body."""
    value = body
    for part in path.split("."):
        if isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            raise ScenarioError(f"cannot save {path!r}: nothing at {part!r} in {_short(body)}")
    return value


def saved_value(outcome: Outcome, spec: str | dict[str, str]) -> Any:
    """`"path"` (or `"@requestId"`), or `{"path": ..., "regex": ...}` to keep the regex's first group."""
    path = spec if isinstance(spec, str) else spec["path"]
    value = outcome.request_id if path == "@requestId" else extract(outcome.body, path)
    if isinstance(spec, str):
        return value
    found = re.fullmatch(spec["regex"], str(value))
    if not found:
        raise ScenarioError(f"cannot save {spec['path']!r}: {value!r} does not match {spec['regex']!r}")
    return found.group(1) if found.groups() else found.group(0)


# --------------------------------------------------------------------------------------------------
# Transport


def _is_aws(endpoint_url: str) -> bool:
    host = urllib.parse.urlsplit(endpoint_url).hostname or ""
    return host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn")


def resolve_credentials(endpoint_url: str, kind: str = "auto") -> botocore.credentials.Credentials:
    """Dummy credentials for local endpoints; the default chain for AWS (or when asked)."""
    if kind == "dummy" or (kind == "auto" and not _is_aws(endpoint_url)):
        return botocore.credentials.Credentials("AKIDCONFORMANCE", "conformance-secret")
    found = boto3.Session().get_credentials()
    if found is None:
        raise SystemExit("no AWS credentials found for a real AWS endpoint")
    return found.get_frozen_credentials()  # type: ignore[return-value]


class Endpoint:
    """Sends requests to one endpoint: through boto3, or as raw signed HTTP."""

    def __init__(self, endpoint_url: str, region: str, credentials: botocore.credentials.Credentials) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self.credentials = credentials
        self._clients: dict[str, Any] = {}

    def client(self, region: str | None = None) -> Any:
        region = region or self.region
        if region not in self._clients:
            session = boto3.session.Session(
                aws_access_key_id=self.credentials.access_key,
                aws_secret_access_key=self.credentials.secret_key,
                aws_session_token=self.credentials.token,
                region_name=region,
            )
            config = botocore.config.Config(
                retries={"total_max_attempts": 1, "mode": "standard"},  # one attempt: failures show at once
                connect_timeout=10,
                read_timeout=60,
            )
            self._clients[region] = session.client("batch", endpoint_url=self.endpoint_url, config=config)
        return self._clients[region]

    def call(self, operation: str, request: dict[str, Any], region: str | None = None) -> Outcome:
        client = self.client(region)
        if operation not in client.meta.service_model.operation_names:
            raise ScenarioError(f"unknown operation {operation!r}")
        method = getattr(client, xform_name(operation))
        try:
            response = method(**request)
        except botocore.exceptions.ParamValidationError as error:
            raise ClientRefused(str(error)) from error
        except botocore.exceptions.ClientError as error:
            return _outcome_from_error(error.response)
        meta = response.pop("ResponseMetadata", {})
        return Outcome(
            status=meta.get("HTTPStatusCode", 0),
            body=response,
            headers={k.lower(): v for k, v in meta.get("HTTPHeaders", {}).items()},
            request_id=meta.get("RequestId"),
        )

    def raw(self, spec: dict[str, Any], region: str | None = None) -> Outcome:
        """Send a hand-built request, signed with SigV4 for the region, exactly as written."""
        method = spec.get("method", "POST").upper()
        url = self.endpoint_url + spec["path"]
        if spec.get("query"):
            url += "?" + urllib.parse.urlencode(spec["query"], doseq=True)
        body = spec.get("body")
        data = (
            body.encode() if isinstance(body, str) else (None if body is None else json.dumps(body).encode())
        )
        headers = {"Content-Type": "application/json"} if data is not None else {}
        headers.update(spec.get("headers", {}))
        signed = botocore.awsrequest.AWSRequest(method=method, url=url, data=data or b"", headers=headers)
        botocore.auth.SigV4Auth(self.credentials, "batch", region or self.region).add_auth(signed)
        request = urllib.request.Request(url, data=data, headers=dict(signed.headers.items()), method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return _outcome_from_http(response.status, dict(response.headers.items()), response.read())
        except urllib.error.HTTPError as error:
            return _outcome_from_http(error.code, dict(error.headers.items()), error.read())


def _outcome_from_error(response: dict[str, Any]) -> Outcome:
    meta = response.get("ResponseMetadata", {})
    body = {k: v for k, v in response.items() if k not in ("Error", "ResponseMetadata")}
    return Outcome(
        status=meta.get("HTTPStatusCode", 0),
        body=body,
        error=response.get("Error", {}).get("Code"),
        message=response.get("Error", {}).get("Message"),
        headers={k.lower(): v for k, v in meta.get("HTTPHeaders", {}).items()},
        request_id=meta.get("RequestId"),
    )


def _outcome_from_http(status: int, raw_headers: dict[str, str], payload: bytes) -> Outcome:
    headers = {k.lower(): v for k, v in raw_headers.items()}
    text = payload.decode("utf-8", errors="replace")
    try:
        body: Any = json.loads(text) if text.strip() else {}
    except ValueError:
        body = text
    error = message = None
    if status >= 400:
        code = headers.get("x-amzn-errortype") or (
            isinstance(body, dict) and (body.get("__type") or body.get("code") or body.get("Code"))
        )
        error = str(code).split(":")[0].split("#")[-1] if code else None
        if isinstance(body, dict):
            message = body.get("message", body.get("Message"))
    request_id = headers.get("x-amzn-requestid") or headers.get("x-amz-request-id")
    return Outcome(status, body, error, message, headers, request_id)


# --------------------------------------------------------------------------------------------------
# Running scenarios


@dataclass
class Context:
    endpoint: Endpoint
    region: str
    variables: dict[str, Any]
    wait_limit_seconds: float
    cleanup: bool


def poll(attempt: Callable[[], Any], is_done: Callable[[Any], bool], timeout_seconds: float) -> Any:
    """Call `attempt` until `is_done(result)` or the time is up; return the last result.

    Starts fast (an emulator settles in milliseconds) and backs off to 5 s (AWS takes minutes).
    """
    deadline = time.monotonic() + timeout_seconds
    delay = 0.05
    while True:
        result = attempt()
        if is_done(result) or time.monotonic() >= deadline:
            return result
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 5.0)


def run_step(
    step: dict[str, Any], ctx: Context, variables: dict[str, Any]
) -> tuple[Outcome | None, list[str]]:
    """Send one step (polling while it has "wait") and compare; None means boto3 refused to send it."""
    region = step.get("region")
    expect = step.get("expect", {})
    if "raw" in step:
        raw = substitute(step["raw"], variables)

        def send() -> Outcome:
            return ctx.endpoint.raw(raw, region)
    else:
        request = substitute(step.get("request", {}), variables)

        def send() -> Outcome:
            return ctx.endpoint.call(step["operation"], request, region)

    def compare(outcome: Outcome) -> list[str]:
        scope = dict(variables, requestId=outcome.request_id or "<no request id>")
        return check(substitute(expect, scope), outcome, ctx.region)

    wait = step.get("wait")
    if wait:
        limit = float(wait.get("timeout_seconds", DEFAULT_WAIT_SECONDS)) if isinstance(wait, dict) else 600.0
        outcome = poll(send, lambda o: not compare(o), min(limit, ctx.wait_limit_seconds))
    else:
        outcome = send()
    return outcome, compare(outcome)


def run_scenario(scenario: dict[str, Any], file_label: str, ctx: Context, report: Report) -> None:
    name = scenario.get("name", "<unnamed>")
    variables = dict(ctx.variables, uuid=uuid.uuid4().hex[:12], region=ctx.region)
    janitor = Janitor(ctx)
    failures: list[Difference] = []
    try:
        for number, step in enumerate(scenario.get("steps", []), start=1):
            label = step.get("operation") or f"raw {step.get('raw', {}).get('method', 'POST')}"
            try:
                outcome, problems = run_step(step, ctx, variables)
            except ClientRefused as refused:
                if scenario.get("client_validation") or step.get("client_validation"):
                    report.skipped_steps += 1
                    continue
                failures.append(
                    Difference(file_label, name, number, f"boto3 refused to send {label}: {refused}")
                )
                break
            except ScenarioError as error:
                failures.append(Difference(file_label, name, number, f"bad scenario: {error}"))
                break
            except (OSError, botocore.exceptions.BotoCoreError) as error:
                failures.append(Difference(file_label, name, number, f"{label} could not be sent: {error}"))
                break
            janitor.record(step.get("operation"), outcome)
            if problems:
                failures.extend(Difference(file_label, name, number, f"{p} [{label}]") for p in problems)
                break
            try:
                for key, spec in step.get("save", {}).items():
                    variables[key] = saved_value(outcome, spec)
            except ScenarioError as error:
                failures.append(Difference(file_label, name, number, f"bad scenario: {error}"))
                break
    finally:
        if ctx.cleanup:
            report.leftovers.extend(f"{file_label}::{name}: {problem}" for problem in janitor.sweep())
    report.differences.extend(failures)
    if failures:
        report.failed += 1
    else:
        report.passed += 1


def load(paths: Iterable[str | Path]) -> list[tuple[Path, list[dict[str, Any]]]]:
    files: list[Path] = []
    for path in map(Path, paths):
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    loaded = []
    for file in files:
        scenarios = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(scenarios, list):
            raise SystemExit(f"{file}: a scenario file holds a JSON list of scenarios")
        loaded.append((file, scenarios))
    return loaded


def run(
    endpoint_url: str,
    paths: Iterable[str | Path] | None = None,
    region: str = "us-east-1",
    *,
    credentials: str = "auto",
    variables: dict[str, str] | None = None,
    cleanup: bool = True,
    wait_limit_seconds: float = DEFAULT_WAIT_SECONDS,
    name_filter: str | None = None,
    on_scenario: Callable[[str, str], None] | None = None,
) -> Report:
    """Replay every scenario in `paths` (files or directories; default: conformance/scenarios)."""
    endpoint = Endpoint(endpoint_url, region, resolve_credentials(endpoint_url, credentials))
    ctx = Context(endpoint, region, dict(DEFAULT_VARIABLES, **(variables or {})), wait_limit_seconds, cleanup)
    report = Report()
    for file, scenarios in load(paths or [SCENARIO_DIR]):
        for scenario in scenarios:
            if name_filter and name_filter not in scenario.get("name", ""):
                continue
            if on_scenario:
                on_scenario(file.name, scenario.get("name", ""))
            run_scenario(scenario, file.name, ctx, report)
    return report


def replay(
    endpoint_url: str, paths: Iterable[str | Path] | None = None, region: str = "us-east-1", **options: Any
) -> list[Difference]:
    """The differences between the scenarios and what `endpoint_url` answered (empty when it conforms)."""
    return run(endpoint_url, paths, region, **options).differences


# --------------------------------------------------------------------------------------------------
# Cleanup


_CREATED = {
    "SubmitJob": ("job", "jobId"),
    "SubmitServiceJob": ("service_job", "jobId"),
    "CreateQuotaShare": ("quota_share", "quotaShareArn"),
    "CreateJobQueue": ("job_queue", "jobQueueArn"),
    "CreateSchedulingPolicy": ("scheduling_policy", "arn"),
    "CreateServiceEnvironment": ("service_environment", "serviceEnvironmentArn"),
    "CreateComputeEnvironment": ("compute_environment", "computeEnvironmentArn"),
    "RegisterJobDefinition": ("job_definition", "jobDefinitionArn"),
    "CreateConsumableResource": ("consumable_resource", "consumableResourceArn"),
}
# Dependents before what they depend on.
_TEARDOWN_ORDER = [kind for kind, _ in _CREATED.values()]
_SETTLED = ("VALID", "INVALID", "DELETED")


class Janitor:
    """Remembers what a scenario created and removes it afterwards, ignoring every error."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.created: dict[str, list[str]] = {kind: [] for kind in _TEARDOWN_ORDER}

    def record(self, operation: str | None, outcome: Outcome | None) -> None:
        if (
            operation in _CREATED
            and outcome is not None
            and outcome.status == 200
            and isinstance(outcome.body, dict)
        ):
            kind, key = _CREATED[operation]
            if outcome.body.get(key):
                self.created[kind].append(outcome.body[key])

    def sweep(self) -> list[str]:
        """Remove everything recorded; return what could not be removed, and why."""
        client = self.ctx.endpoint.client()
        problems = []
        for kind in _TEARDOWN_ORDER:
            for identifier in reversed(self.created[kind]):
                try:
                    getattr(self, f"_remove_{kind}")(client, identifier)
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, OSError) as error:
                    problems.append(f"could not remove {kind} {identifier}: {error}")
        return problems

    def _wait(
        self, describe: Callable[[], dict[str, Any] | None], done: Callable[[dict[str, Any] | None], bool]
    ) -> Any:
        return poll(describe, done, min(self.ctx.wait_limit_seconds, DEFAULT_WAIT_SECONDS))

    def _disable_then_delete(
        self, describe: Callable[[], dict | None], disable: Callable[[], Any], delete: Callable[[], Any]
    ) -> None:
        detail = self._wait(describe, lambda d: d is None or d.get("status") in _SETTLED)
        if detail is None or detail.get("status") == "DELETED":
            return
        if detail.get("state") != "DISABLED":
            disable()
            self._wait(describe, lambda d: d is None or d.get("status") in _SETTLED)
        self._retry(delete)
        self._wait(describe, lambda d: d is None or d.get("status") == "DELETED")

    def _retry(self, action: Callable[[], Any]) -> None:
        """Repeat `action` while the service refuses it: a dependent being deleted may still count."""
        errors: list[botocore.exceptions.ClientError] = []

        def attempt() -> bool:
            try:
                action()
                return True
            except botocore.exceptions.ClientError as error:
                errors.append(error)
                return False

        if not self._wait(attempt, bool):
            raise errors[-1]

    def _remove_job(self, client: Any, job_id: str) -> None:
        client.terminate_job(jobId=job_id, reason="conformance cleanup")

    def _remove_service_job(self, client: Any, job_id: str) -> None:
        client.terminate_service_job(jobId=job_id, reason="conformance cleanup")

    def _remove_quota_share(self, client: Any, arn: str) -> None:
        def describe() -> dict | None:
            try:
                return client.describe_quota_share(quotaShareArn=arn)
            except botocore.exceptions.ClientError:
                return None

        self._disable_then_delete(
            describe,
            lambda: client.update_quota_share(quotaShareArn=arn, state="DISABLED"),
            lambda: client.delete_quota_share(quotaShareArn=arn),
        )

    def _remove_job_queue(self, client: Any, arn: str) -> None:
        def describe() -> dict | None:
            found = client.describe_job_queues(jobQueues=[arn])["jobQueues"]
            return found[0] if found else None

        self._disable_then_delete(
            describe,
            lambda: client.update_job_queue(jobQueue=arn, state="DISABLED"),
            lambda: client.delete_job_queue(jobQueue=arn),
        )

    def _remove_scheduling_policy(self, client: Any, arn: str) -> None:
        if client.describe_scheduling_policies(arns=[arn])["schedulingPolicies"]:
            self._retry(lambda: client.delete_scheduling_policy(arn=arn))

    def _remove_service_environment(self, client: Any, arn: str) -> None:
        def describe() -> dict | None:
            found = client.describe_service_environments(serviceEnvironments=[arn])["serviceEnvironments"]
            return found[0] if found else None

        self._disable_then_delete(
            describe,
            lambda: client.update_service_environment(serviceEnvironment=arn, state="DISABLED"),
            lambda: client.delete_service_environment(serviceEnvironment=arn),
        )

    def _remove_compute_environment(self, client: Any, arn: str) -> None:
        def describe() -> dict | None:
            found = client.describe_compute_environments(computeEnvironments=[arn])["computeEnvironments"]
            return found[0] if found else None

        self._disable_then_delete(
            describe,
            lambda: client.update_compute_environment(computeEnvironment=arn, state="DISABLED"),
            lambda: client.delete_compute_environment(computeEnvironment=arn),
        )

    def _remove_job_definition(self, client: Any, arn: str) -> None:
        client.deregister_job_definition(jobDefinition=arn)

    def _remove_consumable_resource(self, client: Any, arn: str) -> None:
        if any(r["consumableResourceArn"] == arn for r in self._consumable_resources(client, arn)):
            self._retry(lambda: client.delete_consumable_resource(consumableResource=arn))

    @staticmethod
    def _consumable_resources(client: Any, arn: str) -> list[dict[str, Any]]:
        name = arn.rsplit("/", 1)[-1]
        filters = [{"name": "CONSUMABLE_RESOURCE_NAME", "values": [name]}]
        return client.list_consumable_resources(filters=filters)["consumableResources"]


# --------------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.replay", description=__doc__.splitlines()[0])
    parser.add_argument(
        "paths", nargs="*", help="scenario files or directories (default: conformance/scenarios)"
    )
    parser.add_argument("--endpoint", required=True, help="endpoint URL, e.g. http://127.0.0.1:8734")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--credentials",
        choices=["auto", "dummy", "default"],
        default="auto",
        help="dummy keys for local endpoints, the default chain for *.amazonaws.com (auto)",
    )
    parser.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE", help="override a ${NAME} value"
    )
    parser.add_argument("--filter", help="replay only scenarios whose name contains this text")
    parser.add_argument("--no-cleanup", action="store_true", help="leave created resources in place")
    parser.add_argument(
        "--wait-timeout", type=float, default=DEFAULT_WAIT_SECONDS, help="cap on any one wait, s"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="name each scenario as it starts")
    args = parser.parse_args(argv)
    variables = dict(item.split("=", 1) for item in args.var)
    report = run(
        args.endpoint,
        args.paths or None,
        args.region,
        credentials=args.credentials,
        variables=variables,
        cleanup=not args.no_cleanup,
        wait_limit_seconds=args.wait_timeout,
        name_filter=args.filter,
        on_scenario=(lambda f, s: print(f"# {f}::{s}", file=sys.stderr)) if args.verbose else None,
    )
    for leftover in report.leftovers:
        print(f"# cleanup: {leftover}", file=sys.stderr)
    for difference in report.differences:
        print(difference)
    print(f"conformance: {report.passed} passed, {report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
