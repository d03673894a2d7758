"""What a `Resource` reaches: every resource of its service, every role. Pure."""

from __future__ import annotations

import functools
import re

from chalicelib.audit.catalogue import glob_regex

EVERY_OF_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*[/:]\*$")  # `trail/*`, `function:*`


@functools.lru_cache(maxsize=65536)
def covers_all(resources: tuple[str, ...]) -> bool:
    """`*`, or an ARN that reaches every resource of its service in every account and region:
    wildcards after the service (`arn:aws:s3:::*`, `arn:aws:sqs:*:*:*`), or a resource type with a
    wildcard name (`arn:*:cloudtrail:*:*:trail/*`, `arn:aws:lambda:*:*:function:*`). An S3 ARN has
    no type: `arn:aws:s3:::bucket/*` is one bucket's objects, `arn:aws:s3:::*/*` every bucket's."""
    for r in resources:
        parts = r.split(":")
        if r == "*":
            return True
        if len(parts) < 6 or parts[0] != "arn" or not all(p in ("", "*") for p in parts[3:5]):
            continue
        rest = ":".join(parts[5:])
        if parts[2].lower() == "s3":
            if rest in ("", "*", "*/*"):
                return True
        elif rest in ("", "*") or EVERY_OF_TYPE.match(rest):
            return True
    return False


@functools.lru_cache(maxsize=65536)
def covers_all_roles(resource: str) -> bool:
    if covers_all((resource,)):
        return True
    parts = resource.split(":")
    if len(parts) < 6 or parts[2].lower() not in ("iam", "*"):
        return False
    account = parts[4] if parts[4] and "*" not in parts[4] else "123456789012"
    probe = f"arn:aws:iam::{account}:role/some/path/any-role-name"
    return bool(glob_regex(resource).fullmatch(probe))
