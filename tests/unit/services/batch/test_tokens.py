"""Batch pagination tokens: what `encode_token` mints decodes again; anything else, however it was
forged, is the wrapped ClientException `Invalid nextToken` and never reaches a comparison."""

from __future__ import annotations

import base64
import json

import pytest

from emulator.protocol.errors import ServiceError
from emulator.services.batch.tokens import MAX_TOKEN_LENGTH, decode_token, encode_token


def forged(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize("after", [7, -7, "id", [-1_700_000_000_000, "job-id"]])
def test_minted_tokens_decode_to_their_key(after):
    assert decode_token("ListJobs", encode_token("ListJobs", after)) == after


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(base64.urlsafe_b64encode(b"[" * 2000 + b"]" * 2000).decode(), id="nested-2000-deep"),
        pytest.param(forged({"op": "ListJobs", "after": [[[[1]]]]}), id="nested-key"),
        pytest.param(forged({"op": "ListJobs", "after": {"a": 1}}), id="object-key"),
        pytest.param(forged({"op": "ListJobs", "after": True}), id="boolean-key"),
        pytest.param(forged({"op": "ListJobs", "after": None}), id="null-key"),
        pytest.param(forged({"op": "ListJobs", "after": 2**63}), id="beyond-64-bits"),
        pytest.param(forged({"op": "ListJobs", "after": list(range(10))}), id="long-key"),
        pytest.param(forged({"op": "ListJobs", "after": 1, "more": 2}), id="extra-member"),
        pytest.param(forged({"op": "DescribeJobQueues", "after": 1}), id="other-operation"),
        pytest.param(encode_token("ListJobs", "x" * MAX_TOKEN_LENGTH), id="too-long"),
        pytest.param("not base64!", id="not-base64"),
    ],
)
def test_anything_else_is_an_invalid_next_token(token):
    with pytest.raises(ServiceError) as raised:
        decode_token("ListJobs", token)
    assert (raised.value.code, raised.value.message, raised.value.wrapped) == (
        "ClientException",
        "Invalid nextToken",
        True,
    )
