"""Checks made before AWS is called: what a change would do to the account's concurrency pool."""

from __future__ import annotations

from chalicelib.aws.errors import AwsError
from chalicelib.aws.lambda_ import LambdaApi
from chalicelib.aws.limits import UNRESERVED_FLOOR, reservable
from chalicelib.errors import Refused

KILL_SWITCH = (
    "`reserve 0` is a kill switch: the function stops running; async events go "
    "straight to its DLQ or on-failure destination, or are dropped if it has none"
)


def pool_risks(lam: LambdaApi, extra: int, what: str) -> list[str]:
    """Refuse `extra` executions that would leave the account under its unreserved floor."""
    if extra <= 0:
        return []
    try:
        unreserved = lam.account_concurrency().unreserved
    except AwsError as exc:
        return [
            f"could not read the account's unreserved pool ({exc.code}): "
            f"the {UNRESERVED_FLOOR}-execution headroom was not checked"
        ]
    if unreserved is not None and extra > reservable(0, unreserved):
        raise Refused(
            f"{extra} more {what} executions would leave fewer than {UNRESERVED_FLOOR} "
            f"unreserved in the account (unreserved now: {unreserved})"
        )
    return []


def reserve_risks(lam: LambdaApi, current: int | None, target: int | None) -> list[str]:
    risks = [KILL_SWITCH] if target == 0 else []
    if target:
        risks += pool_risks(lam, target - (current or 0), "reserved")
    return risks
