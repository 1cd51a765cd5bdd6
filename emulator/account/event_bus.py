"""The account's default EventBridge bus, as Batch sees it: the rules of moto's EventBridge in
this process, matched and delivered here (event_targets.py).

Batch's events (services/batch/event_delivery.py) go onto the default bus of the job's account and
region. Every enabled rule there whose pattern matches (moto's own pattern matcher) sends the
event to its targets. The delivery is done here rather than by moto's `put_events` because moto
5.2 drops the envelope's `account`, gives the event an id of its own, delivers to disabled rules,
has no SNS targets, writes log-group targets into its own CloudWatch Logs (this endpoint serves
ours) and, when one target fails, skips every rule after it.

moto is imported only when a request first needs it, and a rule can only exist after a request to
moto's EventBridge, so while `moto.events.models` is not imported there is nothing to deliver to.
The lookups read moto's backend dictionaries without creating backends (plain `dict.get`: moto's
own `__getitem__` would create one for every account and region asked about).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

from emulator.account.event_targets import EventTargets
from emulator.stores.base import LogStore

log = logging.getLogger(__name__)

DEFAULT_BUS = "default"


class DefaultEventBus:
    def __init__(self, *, logs: LogStore) -> None:
        """`logs`: the emulator's CloudWatch Logs, where log-group targets write."""
        self._targets = EventTargets(logs=logs)

    def has_rules(self, account_id: str, region: str) -> bool:
        return bool(_rules(account_id, region))

    def put(self, event: Mapping[str, Any]) -> None:
        """`event` is an EventBridge envelope (services/batch/events.envelope)."""
        for rule in _rules(event["account"], event["region"]):
            if rule.state != "ENABLED" or not _matches(rule, event):
                continue
            for target in list(rule.targets):
                self._targets.send(rule, target, event)


def _rules(account_id: str, region: str) -> list[Any]:
    models = sys.modules.get("moto.events.models")
    if models is None:
        return []
    regions = dict.get(models.events_backends, account_id)
    backend = dict.get(regions, region) if regions is not None else None
    bus = backend.event_buses.get(DEFAULT_BUS) if backend is not None else None
    return list(bus.rules.values()) if bus is not None else []


def _matches(rule: Any, event: Mapping[str, Any]) -> bool:
    try:
        return rule.event_pattern.matches_event(dict(event))
    except Exception as error:  # moto's matcher on a pattern it accepted but cannot apply
        log.warning("EventBridge rule %s could not match event %s: %s", rule.name, event["id"], error)
        return False
