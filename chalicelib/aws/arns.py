"""ARNs taken apart and put together. Pure: no boto3."""

from __future__ import annotations

import re

_ARN = re.compile(
    r"^arn:aws[\w-]*:(?P<service>[\w-]+):(?P<region>[\w-]*):(?P<account>\d*):(?P<rest>.+)$"
)


def split_arn(arn: str) -> dict[str, str]:
    """service, region, account and the rest (the resource) of an ARN; ValueError if it is not one."""
    match = _ARN.match(arn)
    if not match:
        raise ValueError(f"not an ARN: {arn!r}")
    return match.groupdict()


def function_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def queue_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sqs:{region}:{account}:{name}"


def queue_url(arn: str) -> str:
    """The queue's URL from its ARN, without a GetQueueUrl round trip."""
    parts = split_arn(arn)
    return f"https://sqs.{parts['region']}.amazonaws.com/{parts['account']}/{parts['rest']}"


def alarm_name(arn: str) -> str:
    """`orders-errors` from `arn:aws:cloudwatch:…:alarm:orders-errors` (names may hold colons)."""
    return arn.rsplit(":alarm:", 1)[-1]


def function_name(arn_or_name: str) -> str:
    """`orders` from `arn:aws:lambda:…:function:orders[:live]` (or a bare name)."""
    return arn_or_name.split(":function:", 1)[-1].split(":", 1)[0]
