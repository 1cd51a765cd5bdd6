"""The credentials a job's container is given to call the emulator back with (engine/job_account.py).

A job's own SDK calls (S3, SSM, SQS, ... and Batch itself) must land in the job's account. By the
endpoint's account rule a twelve-digit access key id names the account, any other the default
one (protocol.dispatch.request_context), so a job of another account gets its account id as its
access key id, and a job of the default account the usual `test` placeholders.

Under --auth every call must be signed with a configured key pair, so a job gets one: the pair
whose access key id is its account id when there is one (configure `--auth
111122223333:SECRET,...` for each account whose jobs call back), else the first pair, whose
calls land in the account that key names. The trade-off: the job's environment holds a real
secret key of the server, readable by whoever can read the job's environment (`docker inspect`,
/proc): the same people who can run jobs on this host, which --auth already trusts.
"""

from __future__ import annotations

from emulator.engine.job_account import DUMMY_CREDENTIALS, JobCredentials
from emulator.protocol.auth import parse_keys


def job_credentials(*, default_account_id: str, auth_keys: str = "") -> JobCredentials:
    """(account id) -> (access key id, secret access key) for that account's jobs."""
    keys = parse_keys(auth_keys)

    def credentials_for(account_id: str) -> tuple[str, str]:
        if keys:
            if account_id in keys:
                return account_id, keys[account_id]
            return next(iter(keys.items()))
        if account_id == default_account_id:
            return DUMMY_CREDENTIALS
        return account_id, DUMMY_CREDENTIALS[1]

    return credentials_for
