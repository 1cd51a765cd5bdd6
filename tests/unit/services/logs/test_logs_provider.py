"""LogsProvider called the way the dispatcher calls it: wire members validated against the Logs
model, converted to keyword arguments, and every result put through the serializer, so an
undeclared member in a response fails here."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from botocore import xform_name

from emulator.engine.clock import ManualClock
from emulator.protocol.dispatch import Dispatcher, RequestContext, ServiceBinding
from emulator.protocol.errors import ServiceError
from emulator.protocol.routing import Route
from emulator.protocol.serializing import serialize_result
from emulator.protocol.specs import LOGS, load_service_model
from emulator.services.logs.provider import LogsProvider
from emulator.stores.memory import MemoryLogStore

ACCOUNT = "123456789012"
REGION = "us-east-1"
GROUP = "/aws/batch/job"
T0 = 1_700_000_000_000
MODEL = load_service_model(LOGS)
OPERATIONS = [
    "CreateLogGroup",
    "CreateLogStream",
    "DeleteLogGroup",
    "DeleteLogStream",
    "DeleteRetentionPolicy",
    "DescribeLogGroups",
    "DescribeLogStreams",
    "FilterLogEvents",
    "GetLogEvents",
    "ListTagsForResource",
    "ListTagsLogGroup",
    "PutLogEvents",
    "PutRetentionPolicy",
    "TagLogGroup",
    "TagResource",
    "UntagLogGroup",
    "UntagResource",
]


class Logs:
    """Calls operations by their wire names with wire-shaped parameters."""

    def __init__(self) -> None:
        self.clock = ManualClock(T0)
        self.store = MemoryLogStore(now_ms=self.clock.now_ms)
        self.provider = LogsProvider(store=self.store, clock=self.clock)
        self.dispatcher = Dispatcher(
            [
                ServiceBinding(
                    MODEL, self.provider, "InvalidParameterException", False, "ServiceUnavailableException"
                )
            ]
        )
        self.context = RequestContext(ACCOUNT, REGION, "request-1")

    def __call__(self, operation: str, **params: Any) -> dict[str, Any]:
        route = Route(MODEL, MODEL.operation_model(operation), {})
        result = self.dispatcher.dispatch(route, params, self.context)
        serialize_result(MODEL, route.operation, result, "request-1")  # raises on undeclared members
        return result

    def put(self, stream: str, *events: tuple[int, str], group: str = GROUP) -> dict[str, Any]:
        log_events = [{"timestamp": timestamp, "message": message} for timestamp, message in events]
        return self("PutLogEvents", logGroupName=group, logStreamName=stream, logEvents=log_events)


@pytest.fixture
def logs() -> Logs:
    return Logs()


@pytest.fixture
def stream(logs: Logs) -> str:
    """Ten events, m0..m9, one millisecond apart."""
    logs("CreateLogGroup", logGroupName=GROUP)
    logs("CreateLogStream", logGroupName=GROUP, logStreamName="s")
    logs.put("s", *[(T0 + i, f"m{i}") for i in range(10)])
    return "s"


def error_of(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(ServiceError) as caught:
        call(*args, **kwargs)
    return caught.value.code, caught.value.message


def messages(result: dict[str, Any]) -> list[str]:
    return [event["message"] for event in result["events"]]


# --- the provider's surface -----------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS)
def test_provider_accepts_every_member_of_the_input_shape(operation: str) -> None:
    method = getattr(LogsProvider, xform_name(operation))
    accepted = set(inspect.signature(method).parameters) - {"self", "ctx"}
    declared = {xform_name(name) for name in MODEL.operation_model(operation).input_shape.members}
    assert declared <= accepted


# --- groups ---------------------------------------------------------------------------------------


def test_create_log_group_twice_is_resource_already_exists(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName=GROUP)
    assert error_of(logs, "CreateLogGroup", logGroupName=GROUP) == (
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
    )


def test_describe_log_groups_shows_the_group(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName=GROUP, kmsKeyId="key-1")
    logs("PutRetentionPolicy", logGroupName=GROUP, retentionInDays=30)
    assert logs("DescribeLogGroups") == {
        "logGroups": [
            {
                "logGroupName": GROUP,
                "creationTime": T0,
                "metricFilterCount": 0,
                "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:*",
                "logGroupArn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}",
                "storedBytes": 0,
                "retentionInDays": 30,
                "kmsKeyId": "key-1",
                "logGroupClass": "STANDARD",
            }
        ]
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"logGroupNamePrefix": "/aws/"}, ["/aws/batch/job", "/aws/lambda/Fn"]),
        ({"logGroupNamePattern": "LAMBDA"}, ["/aws/lambda/Fn"]),  # case-insensitive substring
        ({"logGroupIdentifiers": ["mine", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/batch/job"]},
         ["/aws/batch/job", "mine"]),
    ],
    ids=["prefix", "pattern", "identifiers"],
)  # fmt: skip
def test_describe_log_groups_filters(logs: Logs, params: dict, expected: list[str]) -> None:
    for name in ["mine", "/aws/lambda/Fn", "/aws/batch/job"]:
        logs("CreateLogGroup", logGroupName=name)
    assert [g["logGroupName"] for g in logs("DescribeLogGroups", **params)["logGroups"]] == expected


def test_describe_log_groups_prefix_and_pattern_are_exclusive(logs: Logs) -> None:
    code, _ = error_of(logs, "DescribeLogGroups", logGroupNamePrefix="a", logGroupNamePattern="b")
    assert code == "InvalidParameterException"


def test_describe_log_groups_pages_by_name(logs: Logs) -> None:
    names = [f"group-{i:03d}" for i in range(120)]
    for name in reversed(names):
        logs("CreateLogGroup", logGroupName=name)
    seen: list[str] = []
    params: dict[str, Any] = {}
    while True:
        page = logs("DescribeLogGroups", **params)
        assert len(page["logGroups"]) <= 50
        seen += [g["logGroupName"] for g in page["logGroups"]]
        if "nextToken" not in page:
            break
        params = {"nextToken": page["nextToken"]}
    assert seen == names
    limited = logs("DescribeLogGroups", limit=7)
    assert len(limited["logGroups"]) == 7 and "nextToken" in limited


def test_delete_log_group(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName=GROUP)
    logs("DeleteLogGroup", logGroupName=GROUP)
    assert logs("DescribeLogGroups")["logGroups"] == []
    assert error_of(logs, "DeleteLogGroup", logGroupName=GROUP) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )


def test_retention_policy(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName=GROUP)
    logs("PutRetentionPolicy", logGroupName=GROUP, retentionInDays=7)
    logs("DeleteRetentionPolicy", logGroupName=GROUP)
    assert "retentionInDays" not in logs("DescribeLogGroups")["logGroups"][0]
    code, message = error_of(logs, "PutRetentionPolicy", logGroupName=GROUP, retentionInDays=2)
    assert code == "InvalidParameterException"
    assert "Member must satisfy enum value set: [1, 3, 5, 7, 14," in message
    assert error_of(logs, "PutRetentionPolicy", logGroupName="nope", retentionInDays=7)[0] == (
        "ResourceNotFoundException"
    )


# --- tags -----------------------------------------------------------------------------------------


def test_tags_through_both_apis(logs: Logs) -> None:
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}"
    logs("CreateLogGroup", logGroupName=GROUP, tags={"team": "batch"})
    logs("TagLogGroup", logGroupName=GROUP, tags={"env": "dev"})
    logs("TagResource", resourceArn=arn, tags={"owner": "me"})
    assert logs("ListTagsLogGroup", logGroupName=GROUP) == {
        "tags": {"team": "batch", "env": "dev", "owner": "me"}
    }
    logs("UntagLogGroup", logGroupName=GROUP, tags=["team"])
    logs("UntagResource", resourceArn=arn, tagKeys=["env"])
    assert logs("ListTagsForResource", resourceArn=arn) == {"tags": {"owner": "me"}}


def test_tags_of_a_missing_group(logs: Logs) -> None:
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:missing"
    assert error_of(logs, "ListTagsForResource", resourceArn=arn)[0] == "ResourceNotFoundException"
    assert error_of(logs, "ListTagsLogGroup", logGroupName="missing")[0] == "ResourceNotFoundException"
    assert error_of(logs, "TagResource", resourceArn="arn:aws:s3:::bucket", tags={"a": "b"})[0] == (
        "InvalidParameterException"
    )


def test_no_more_than_fifty_tags(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName=GROUP, tags={f"k{i}": "v" for i in range(50)})
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}"
    assert error_of(logs, "TagResource", resourceArn=arn, tags={"one-more": "v"})[0] == "TooManyTagsException"
    logs("TagResource", resourceArn=arn, tags={"k0": "replaced"})  # replacing is fine


# --- streams --------------------------------------------------------------------------------------


def test_create_log_stream_errors(logs: Logs) -> None:
    assert error_of(logs, "CreateLogStream", logGroupName=GROUP, logStreamName="s") == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    logs("CreateLogGroup", logGroupName=GROUP)
    logs("CreateLogStream", logGroupName=GROUP, logStreamName="s")
    assert error_of(logs, "CreateLogStream", logGroupName=GROUP, logStreamName="s") == (
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
    )


def test_describe_log_streams_shows_event_times(logs: Logs, stream: str) -> None:
    [described] = logs("DescribeLogStreams", logGroupName=GROUP)["logStreams"]
    assert described == {
        "logStreamName": "s",
        "creationTime": T0,
        "firstEventTimestamp": T0,
        "lastEventTimestamp": T0 + 9,
        "lastIngestionTime": T0,
        "uploadSequenceToken": described["uploadSequenceToken"],
        "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}:log-stream:s",
        "storedBytes": 0,
    }


def test_an_empty_stream_has_no_event_times(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName=GROUP)
    logs("CreateLogStream", logGroupName=GROUP, logStreamName="s")
    [described] = logs("DescribeLogStreams", logGroupName=GROUP)["logStreams"]
    assert set(described) == {"logStreamName", "creationTime", "arn", "storedBytes"}


@pytest.fixture
def streams(logs: Logs) -> Logs:
    """job/b has the latest event, job/c the earliest, x none."""
    logs("CreateLogGroup", logGroupName=GROUP)
    for name in ["x", "job/c", "job/a", "job/b"]:
        logs("CreateLogStream", logGroupName=GROUP, logStreamName=name)
    logs.put("job/a", (T0 + 2, "a"))
    logs.put("job/b", (T0 + 3, "b"))
    logs.put("job/c", (T0 + 1, "c"))
    return logs


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["job/a", "job/b", "job/c", "x"]),
        ({"descending": True}, ["x", "job/c", "job/b", "job/a"]),
        ({"logStreamNamePrefix": "job/"}, ["job/a", "job/b", "job/c"]),
        ({"orderBy": "LastEventTime"}, ["x", "job/c", "job/a", "job/b"]),
        ({"orderBy": "LastEventTime", "descending": True}, ["job/b", "job/a", "job/c", "x"]),
        ({"logGroupIdentifier": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}"}, ["job/a", "job/b", "job/c", "x"]),
    ],
    ids=["by-name", "by-name-descending", "prefix", "by-last-event", "by-last-event-descending", "identifier-arn"],
)  # fmt: skip
def test_describe_log_streams_orders(streams: Logs, params: dict, expected: list[str]) -> None:
    if "logGroupIdentifier" not in params:
        params = {"logGroupName": GROUP, **params}
    assert [s["logStreamName"] for s in streams("DescribeLogStreams", **params)["logStreams"]] == expected


@pytest.mark.parametrize("params", [{}, {"descending": True}, {"orderBy": "LastEventTime"},
                                    {"orderBy": "LastEventTime", "descending": True}])  # fmt: skip
def test_describe_log_streams_pages_through_everything_once(streams: Logs, params: dict) -> None:
    everything = streams("DescribeLogStreams", logGroupName=GROUP, **params)["logStreams"]
    seen: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = streams("DescribeLogStreams", logGroupName=GROUP, limit=1, **params, **token)
        seen += [s["logStreamName"] for s in page["logStreams"]]
        if "nextToken" not in page:
            break
        token = {"nextToken": page["nextToken"]}
    assert seen == [s["logStreamName"] for s in everything]


def test_describe_log_streams_rejects_prefix_with_last_event_time(streams: Logs) -> None:
    assert error_of(
        streams, "DescribeLogStreams", logGroupName=GROUP, orderBy="LastEventTime", logStreamNamePrefix="job/"
    ) == ("InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix.")


def test_describe_log_streams_token_from_another_ordering_is_invalid(streams: Logs) -> None:
    token = streams("DescribeLogStreams", logGroupName=GROUP, limit=1)["nextToken"]
    assert error_of(
        streams, "DescribeLogStreams", logGroupName=GROUP, orderBy="LastEventTime", nextToken=token
    ) == ("InvalidParameterException", "The specified nextToken is invalid.")


def test_describe_log_streams_of_missing_group(logs: Logs) -> None:
    assert error_of(logs, "DescribeLogStreams", logGroupName=GROUP)[0] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    "params",
    [{}, {"logGroupName": GROUP, "logGroupIdentifier": GROUP}],
    ids=["neither", "both"],
)
def test_group_name_and_identifier_are_one_or_the_other(streams: Logs, params: dict) -> None:
    assert error_of(streams, "DescribeLogStreams", **params)[0] == "InvalidParameterException"


def test_delete_log_stream(logs: Logs, stream: str) -> None:
    logs("DeleteLogStream", logGroupName=GROUP, logStreamName=stream)
    assert logs("DescribeLogStreams", logGroupName=GROUP)["logStreams"] == []
    assert error_of(logs, "DeleteLogStream", logGroupName=GROUP, logStreamName=stream) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )


# --- PutLogEvents ---------------------------------------------------------------------------------


def test_put_log_events_needs_group_and_stream(logs: Logs) -> None:
    assert error_of(logs.put, "s", (T0, "x")) == (
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    )
    logs("CreateLogGroup", logGroupName=GROUP)
    assert error_of(logs.put, "s", (T0, "x")) == (
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    )


def test_put_log_events_returns_a_new_sequence_token_each_time(logs: Logs, stream: str) -> None:
    first = logs.put(stream, (T0 + 20, "a"))["nextSequenceToken"]
    second = logs("PutLogEvents", logGroupName=GROUP, logStreamName=stream, sequenceToken="stale",
                  logEvents=[{"timestamp": T0 + 21, "message": "b"}])["nextSequenceToken"]  # fmt: skip
    assert first != second
    [described] = logs("DescribeLogStreams", logGroupName=GROUP)["logStreams"]
    assert described["uploadSequenceToken"] == second


def test_put_log_events_stamps_ingestion_time_from_the_clock(logs: Logs, stream: str) -> None:
    logs.clock.advance(5_000)
    logs.put(stream, (T0 + 20, "late"))
    last = logs("GetLogEvents", logGroupName=GROUP, logStreamName=stream, limit=1)["events"][0]
    assert last == {"timestamp": T0 + 20, "message": "late", "ingestionTime": T0 + 5_000}


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([(T0 + 1, "b"), (T0, "a")], "Log events in a single PutLogEvents request must be in chronological order."),
        ([(T0, "a"), (T0 + 24 * 3600 * 1000 + 1, "b")],
         "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."),
    ],
    ids=["out-of-order", "longer-than-a-day"],
)  # fmt: skip
def test_put_log_events_rejects_bad_batches(logs: Logs, stream: str, events: list, message: str) -> None:
    assert error_of(logs.put, stream, *events) == ("InvalidParameterException", message)


# --- GetLogEvents ---------------------------------------------------------------------------------


def get(logs: Logs, **params: Any) -> dict[str, Any]:
    return logs("GetLogEvents", logGroupName=GROUP, logStreamName="s", **params)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [f"m{i}" for i in range(10)]),
        ({"limit": 3}, ["m7", "m8", "m9"]),  # the newest events, oldest first
        ({"limit": 3, "startFromHead": True}, ["m0", "m1", "m2"]),
        ({"startTime": T0 + 4, "endTime": T0 + 7}, ["m4", "m5", "m6"]),  # endTime is exclusive
        ({"startTime": T0 + 4, "endTime": T0 + 7, "limit": 2}, ["m5", "m6"]),
        ({"startTime": T0 + 100}, []),
    ],
    ids=["all", "tail", "head", "time-range", "tail-of-range", "nothing-in-range"],
)
def test_get_log_events_first_page(logs: Logs, stream: str, params: dict, expected: list[str]) -> None:
    assert messages(get(logs, **params)) == expected


def test_forward_token_reads_to_the_end_then_repeats(logs: Logs, stream: str) -> None:
    page = get(logs, startFromHead=True, limit=4)
    seen = messages(page)
    while True:
        token = page["nextForwardToken"]
        page = get(logs, nextToken=token, limit=4)
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        seen += messages(page)
    assert seen == [f"m{i}" for i in range(10)]


def test_forward_token_picks_up_events_written_later(logs: Logs, stream: str) -> None:
    """What a log tailer does: keep the forward token and ask again."""
    token = get(logs)["nextForwardToken"]
    assert get(logs, nextToken=token)["nextForwardToken"] == token
    logs.put(stream, (T0 + 10, "m10"), (T0 + 11, "m11"))
    page = get(logs, nextToken=token)
    assert messages(page) == ["m10", "m11"]
    assert messages(get(logs, nextToken=page["nextForwardToken"])) == []


def test_backward_token_reads_earlier_pages_then_repeats(logs: Logs, stream: str) -> None:
    page = get(logs, limit=4)
    pages = [messages(page)]
    while True:
        token = page["nextBackwardToken"]
        page = get(logs, nextToken=token, limit=4)
        if page["nextBackwardToken"] == token:
            assert page["events"] == []
            break
        pages.append(messages(page))
    assert pages == [["m6", "m7", "m8", "m9"], ["m2", "m3", "m4", "m5"], ["m0", "m1"]]


def test_forward_token_after_backward_page_reads_on(logs: Logs, stream: str) -> None:
    older = get(logs, nextToken=get(logs, limit=4)["nextBackwardToken"], limit=4)
    assert messages(get(logs, nextToken=older["nextForwardToken"], limit=2)) == ["m6", "m7"]


def test_empty_stream_tokens_catch_the_first_events(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName=GROUP)
    logs("CreateLogStream", logGroupName=GROUP, logStreamName="s")
    page = get(logs)
    assert page["events"] == []
    assert page["nextForwardToken"].startswith("f/") and page["nextBackwardToken"].startswith("b/")
    logs.put("s", (T0, "first"))
    assert messages(get(logs, nextToken=page["nextForwardToken"])) == ["first"]


def test_get_log_events_by_group_identifier(logs: Logs, stream: str) -> None:
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{GROUP}"
    page = logs("GetLogEvents", logGroupIdentifier=arn, logStreamName=stream, limit=1)
    assert messages(page) == ["m9"]


@pytest.mark.parametrize(
    "token", ["garbage", "f/123/s", "x/00000000000000000000000000000000000000000000000000000000/s"]
)
def test_get_log_events_rejects_tokens_it_did_not_mint(logs: Logs, stream: str, token: str) -> None:
    assert error_of(get, logs, nextToken=token) == (
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    )


def test_get_log_events_of_missing_stream(logs: Logs) -> None:
    logs("CreateLogGroup", logGroupName=GROUP)
    assert error_of(get, logs) == ("ResourceNotFoundException", "The specified log stream does not exist.")


# --- FilterLogEvents ------------------------------------------------------------------------------


@pytest.fixture
def job_output(logs: Logs) -> Logs:
    logs("CreateLogGroup", logGroupName=GROUP)
    for name in ["job/1", "job/2", "other"]:
        logs("CreateLogStream", logGroupName=GROUP, logStreamName=name)
    logs.put("job/1", (T0 + 1, "starting up"), (T0 + 4, "ERROR disk full"), (T0 + 6, "done"))
    logs.put("job/2", (T0 + 2, "WARN slow network"), (T0 + 5, "ERROR Out of memory"))
    logs.put("other", (T0 + 3, "ERROR unrelated"))
    return logs


def filter_messages(logs: Logs, **params: Any) -> list[str]:
    return messages(logs("FilterLogEvents", logGroupName=GROUP, **params))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["starting up", "WARN slow network", "ERROR unrelated", "ERROR disk full", "ERROR Out of memory", "done"]),
        ({"filterPattern": ""}, ["starting up", "WARN slow network", "ERROR unrelated", "ERROR disk full",
                                 "ERROR Out of memory", "done"]),
        ({"filterPattern": "ERROR"}, ["ERROR unrelated", "ERROR disk full", "ERROR Out of memory"]),
        ({"filterPattern": "error"}, []),  # case-sensitive
        ({"filterPattern": "ERROR full"}, ["ERROR disk full"]),  # every term
        ({"filterPattern": '"Out of memory"'}, ["ERROR Out of memory"]),
        ({"filterPattern": "?WARN ?full"}, ["WARN slow network", "ERROR disk full"]),
        ({"filterPattern": "ERROR -unrelated"}, ["ERROR disk full", "ERROR Out of memory"]),
        ({"filterPattern": "{ $.level = \"error\" }"}, []),  # unsupported syntax: literal terms
        ({"logStreamNamePrefix": "job/"}, ["starting up", "WARN slow network", "ERROR disk full",
                                            "ERROR Out of memory", "done"]),
        ({"logStreamNames": ["other", "job/2"]}, ["WARN slow network", "ERROR unrelated", "ERROR Out of memory"]),
        ({"startTime": T0 + 2, "endTime": T0 + 4}, ["WARN slow network", "ERROR unrelated", "ERROR disk full"]),
    ],
    ids=["no-pattern", "empty-pattern", "term", "case-sensitive", "all-terms", "phrase", "optional-terms",
         "excluded-term", "json-pattern", "stream-prefix", "stream-names", "end-time-inclusive"],
)  # fmt: skip
def test_filter_log_events(job_output: Logs, params: dict, expected: list[str]) -> None:
    assert filter_messages(job_output, **params) == expected


def test_filter_log_events_shape(job_output: Logs) -> None:
    result = job_output("FilterLogEvents", logGroupName=GROUP, filterPattern="disk")
    [event] = result["events"]
    assert set(event) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
    assert (event["logStreamName"], event["timestamp"], event["ingestionTime"]) == ("job/1", T0 + 4, T0)
    assert len(event["eventId"]) == 56 and event["eventId"].isdigit()
    assert result["searchedLogStreams"] == [] and "nextToken" not in result


def test_filter_log_events_pages_with_next_token(job_output: Logs) -> None:
    everything = job_output("FilterLogEvents", logGroupName=GROUP)["events"]
    seen: list[dict] = []
    token: dict[str, str] = {}
    while True:
        page = job_output("FilterLogEvents", logGroupName=GROUP, limit=2, **token)
        seen += page["events"]
        if "nextToken" not in page:
            break
        token = {"nextToken": page["nextToken"]}
    assert seen == everything
    assert len({event["eventId"] for event in seen}) == len(seen)


def test_filter_log_events_errors(job_output: Logs) -> None:
    assert error_of(job_output, "FilterLogEvents", logGroupName="missing")[0] == "ResourceNotFoundException"
    assert error_of(job_output, "FilterLogEvents", logGroupName=GROUP, nextToken="nope") == (
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    )
    code, _ = error_of(
        job_output, "FilterLogEvents", logGroupName=GROUP, logStreamNames=["a"], logStreamNamePrefix="a"
    )
    assert code == "InvalidParameterException"


def test_requests_are_scoped_to_the_callers_account_and_region(logs: Logs, stream: str) -> None:
    logs.context = RequestContext("210987654321", REGION, "request-2")
    assert logs("DescribeLogGroups")["logGroups"] == []
    logs.context = RequestContext(ACCOUNT, "eu-west-1", "request-3")
    assert error_of(get, logs)[0] == "ResourceNotFoundException"
