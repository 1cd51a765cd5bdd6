"""A job's log as the dashboard reads it: the last 1,000 lines of a stream, older pages on demand,
and the lines written since the last read, all through the CloudWatch Logs service's
GetLogEvents and its tokens, as `aws logs tail` would read them."""

from __future__ import annotations

from typing import Any

from emulator.dashboard.errors import bad_request, not_found
from emulator.dashboard.jobpage import LogSource, default_log_source
from emulator.protocol.dispatch import RequestContext
from emulator.protocol.errors import ServiceError
from emulator.services.logs.provider import LogsProvider

PAGE_LINES = 1000


def choose_source(sources: list[LogSource], stream: str | None) -> LogSource | None:
    """The source named by `stream`, or the default one when none is named; a stream that is not
    one of the job's is refused, so the log view reads no other job's stream."""
    if not stream:
        return default_log_source(sources)
    for source in sources:
        if source.stream == stream:
            return source
    raise not_found(f"The job wrote no log stream named {stream!r}.")


def read_log(
    logs: LogsProvider, ctx: RequestContext, source: LogSource, *, token: str | None = None
) -> dict[str, Any]:
    """Without a token the last PAGE_LINES lines; with a forward token the lines written after
    the page it came from; with a backward token the PAGE_LINES lines before."""
    try:
        page = logs.get_log_events(
            ctx,
            log_group_name=source.group,
            log_stream_name=source.stream,
            limit=PAGE_LINES,
            next_token=token,
            start_from_head=False if token is None else None,
        )
    except ServiceError as error:
        if error.code == "ResourceNotFoundException":  # nothing written yet
            return {"stream": source.stream, "events": [], "forward": token, "backward": None}
        raise bad_request(error.message) from None
    return {
        "stream": source.stream,
        "events": [{"t": event["timestamp"], "m": event["message"]} for event in page["events"]],
        "forward": page.get("nextForwardToken"),
        "backward": page.get("nextBackwardToken") if page["events"] else None,
    }
