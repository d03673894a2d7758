"""Checks made before AWS is called: what a change would do to the account's concurrency pool."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.aws.errors import AwsError
from chalicelib.aws.lambda_ import LambdaApi
from chalicelib.aws.limits import UNRESERVED_FLOOR, reservable
from chalicelib.errors import Refused

if TYPE_CHECKING:
    from chalicelib.ops.context import OpsContext

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


def reserve_risks(
    ctx: OpsContext, function: str, current: int | None, target: int | None
) -> list[str]:
    not_throttling_shepherd(ctx, function, current, target)
    risks = [KILL_SWITCH] if target == 0 else []
    if target:
        risks += pool_risks(ctx.lam, target - (current or 0), "reserved")
    return risks


# Change kinds that act on a function's configuration: never on Shepherd's own (its policy denies
# them there too, policies/api_handler.json), or a command could break the bot that undoes it.
FUNCTION_KINDS = frozenset({"memory", "timeout", "alias", "provisioned", "reserved_concurrency"})


def not_changing_shepherd(ctx: OpsContext, kind: str, target: str) -> None:
    """Refuse any change of a Shepherd function's configuration, whatever its kind."""
    if kind not in FUNCTION_KINDS or not ctx.is_own(target):
        return
    raise Refused(
        f"*{target}* is one of Shepherd's own functions: Shepherd does not change itself from "
        "chat (a wrong memory, timeout, alias or concurrency could stop the bot that would undo "
        "it); change it in the deployment (.chalice/config.json) and deploy"
    )


def not_throttling_shepherd(
    ctx: OpsContext, function: str, current: int | None, target: int | None
) -> None:
    """Shepherd never kills or caps its own functions: it would lose the way to undo it."""
    if target is None or not ctx.is_own(function):
        return
    if target == 0:
        raise Refused(
            f"*{function}* is one of Shepherd's own functions: `reserve 0` would stop Shepherd "
            "itself, and with it the way to undo this"
        )
    if current is None or target < current:
        raise Refused(
            f"*{function}* is one of Shepherd's own functions: reserving {target} "
            f"(now {'unreserved' if current is None else current}) would throttle Shepherd; "
            "change its reservation in the deployment (.chalice/config.json) instead"
        )
