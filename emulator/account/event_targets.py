"""Sending one matched event to one EventBridge rule target (event_bus.py matched it).

What the target receives is what EventBridge sends: the whole event as JSON, or the target's
`Input` (constant text), `InputPath` (a JSONPath into the event) or `InputTransformer` (moto's
template filler). Where it goes:

- an SQS queue (moto's): one message, in the target's `MessageGroupId` for a FIFO queue;
- an SNS topic (moto's): one publication, which moto hands to the topic's subscriptions;
- a CloudWatch Logs log group (this emulator's own Logs, where the group must already exist): one
  log event, at the event's time, in a stream named by the event id;
- anything else moto's EventBridge can deliver (another bus, an archive, an API destination): by
  moto's rule code, for that target alone.

A target that cannot be reached (a deleted queue, a missing log group, a FIFO queue without
content-based deduplication) is logged and skipped, as EventBridge counts a failed invocation and
moves on; nothing is retried.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from emulator.stores.base import LogGroupNotFoundError, LogStore

log = logging.getLogger(__name__)


class EventTargets:
    def __init__(self, *, logs: LogStore) -> None:
        self._logs = logs

    def send(self, rule: Any, target: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        arn = str(target.get("Arn", "")).split(
            ":", 5
        )  # arn:<partition>:<service>:<region>:<account>:<resource>
        if len(arn) != 6:
            log.warning("EventBridge rule %s: target %r has no usable ARN", rule.name, target.get("Id"))
            return
        service, region, account_id, resource = arn[2], arn[3], arn[4], arn[5]
        try:
            if service == "sqs":
                _to_queue(account_id, region, resource, _payload(target, event), target)
            elif service == "sns":
                _to_topic(account_id, region, target["Arn"], _payload(target, event))
            elif service == "logs" and resource.startswith("log-group:"):
                group = resource.removeprefix("log-group:").removesuffix(":*")
                self._to_log_group(account_id, region, group, _payload(target, event), event)
            else:
                _by_moto(rule, target, event)
        except Exception as error:  # EventBridge counts a failed invocation and goes on to the next
            log.warning(
                "EventBridge rule %s could not deliver event %s to %s: %s",
                rule.name,
                event["id"],
                target["Arn"],
                error,
            )

    def _to_log_group(
        self, account_id: str, region: str, group: str, payload: str, event: Mapping[str, Any]
    ) -> None:
        try:
            self._logs.get_group(account_id, region, group)
        except LogGroupNotFoundError:
            log.warning(
                "EventBridge target log group %s does not exist; event %s not delivered", group, event["id"]
            )
            return
        at_ms = int(_epoch_seconds(event["time"]) * 1000)
        self._logs.put_events(account_id, region, group, event["id"], [(at_ms, payload)])


def _payload(target: Mapping[str, Any], event: Mapping[str, Any]) -> str:
    if "Input" in target:
        return str(target["Input"])
    if "InputPath" in target:
        from jsonpath_ng.ext import parse  # moto's EventBridge depends on it

        found = parse(target["InputPath"]).find(dict(event))
        return json.dumps(found[0].value) if found else "null"
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.utils import EventTemplateParser

        filled = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event={**event, "ingestion-time": time.time()},
        )
        return json.dumps(filled)
    return json.dumps(event)


def _to_queue(account_id: str, region: str, queue_name: str, payload: str, target: Mapping[str, Any]) -> None:
    from moto.sqs.models import sqs_backends

    group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
    sqs_backends[account_id][region].send_message(
        queue_name=queue_name, message_body=payload, group_id=group_id
    )


def _to_topic(account_id: str, region: str, topic_arn: str, payload: str) -> None:
    from moto.sns.models import sns_backends

    sns_backends[account_id][region].publish(message=payload, arn=topic_arn)


def _by_moto(rule: Any, target: Mapping[str, Any], event: Mapping[str, Any]) -> None:
    """moto's own delivery, to this one target, of the event in the shape moto keeps (epoch times)."""
    alone = copy.copy(rule)
    alone.targets = [dict(target)]
    moto_event = {**event, "time": _epoch_seconds(event["time"]), "ingestion-time": time.time()}
    alone.send_to_targets(moto_event)


def _epoch_seconds(iso_time: str) -> float:
    return datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp()
