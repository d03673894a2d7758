"""What `shepherd doctor` asks a deployed Shepherd, because only its runtime and its role can
tell: invoked directly (`{"shepherd-doctor": "probe"}` to `on_alarm_action`), it answers which
botocore the Lambda runtime has and whether it can make alarm mute rules (Snooze), whether each
configured member account can be assumed with its external id, whether operators are set, and
which runbooks it has.
It reads and assumes only; it changes nothing and posts nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.container import Container

PROBE = "shepherd-doctor"


def is_probe(event: Any) -> bool:
    return isinstance(event, dict) and event.get(PROBE) == "probe"


def answer(c: Container) -> dict[str, Any]:
    import botocore
    from botocore.exceptions import BotoCoreError, ClientError

    cloudwatch = c.aws.client("cloudwatch")
    sts = c.aws.client("sts")
    accounts: dict[str, str] = {}
    for member in c.settings.accounts.members:
        request: dict[str, Any] = {
            "RoleArn": member.role,
            "RoleSessionName": "shepherd-doctor",
            "DurationSeconds": 900,
        }
        if member.external_id:
            request["ExternalId"] = member.external_id
        try:
            sts.assume_role(**request)
            accounts[member.id] = "ok"
        except ClientError as exc:
            error = exc.response.get("Error", {})
            accounts[member.id] = f"{error.get('Code')}: {error.get('Message', '')}"[:300]
        except BotoCoreError as exc:
            accounts[member.id] = str(exc)[:300]
    return {
        "botocore": botocore.__version__,
        "mute_rules": hasattr(cloudwatch, "put_alarm_mute_rule"),
        "accounts": accounts,
        "names": {a.id: a.name for a in c.settings.accounts.members},
        "operators": len(c.settings.operators),
        # (read at start: a malformed file stops it, and the doctor sees the function fail)
        "runbooks": [b.name for b in c.runbooks.books] if c.settings.runbooks_file.exists() else [],
        "function": c.settings.function or "",
    }
