"""Whose resources a dashboard request shows: an account and a region, as the API's credential
scope decides for a client. The defaults are the server's (--region, --account-id); `?region=`
and `?account=` pick another, and links keep them."""

from __future__ import annotations

import re
import uuid

from flask import request

from emulator.config import Settings
from emulator.dashboard.errors import bad_request
from emulator.protocol.dispatch import RequestContext

REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
ACCOUNT = re.compile(r"\d{12}")
SCOPE_ARGS = ("account", "region")


def request_scope(settings: Settings) -> RequestContext:
    region = request.args.get("region") or settings.region
    account_id = request.args.get("account") or settings.account_id
    if not REGION.fullmatch(region):
        raise bad_request(f"{region!r} is not a region name such as us-east-1.")
    if not ACCOUNT.fullmatch(account_id):
        raise bad_request(f"{account_id!r} is not a 12-digit account id.")
    return RequestContext(account_id, region, str(uuid.uuid4()))


def carried_scope() -> dict[str, str]:
    """The scope arguments of the current request, for links to other dashboard pages."""
    return {name: request.args[name] for name in SCOPE_ARGS if request.args.get(name)}
