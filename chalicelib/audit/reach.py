"""What a `Resource` reaches: every resource of its service, every role. Pure."""

from __future__ import annotations

import functools
import re

from chalicelib.audit.catalogue import Catalogue, glob_regex

LITERAL = re.compile(r"[^*?]*")  # what a pattern says before its first wildcard
EVERY_OF_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*[/:]\*$")  # `trail/*`, `function:*`


@functools.lru_cache(maxsize=65536)
def covers_all(resources: tuple[str, ...], catalogue: Catalogue | None = None) -> bool:
    """`*`, or an ARN that reaches every resource of a type of its service in every account and
    region: wildcards after the service (`arn:aws:sqs:*:*:*`), or a pattern that matches every
    ARN of one of the service's resource types as the catalogue knows them
    (`arn:*:cloudtrail:*:*:trail/*`, `arn:aws:logs:*:*:log-group:*:log-stream:*`,
    `arn:aws:s3:::*/*`, `arn:aws:apigateway:*::/restapis/*`). `arn:aws:s3:::bucket/*` is one
    bucket's objects. The shape `type/*`, `type:*` counts too, for what the catalogue lacks or
    names otherwise (backup's `recovery-point:*`)."""
    for r in resources:
        parts = r.split(":")
        if r == "*":
            return True
        if len(parts) < 6 or parts[0] != "arn" or not all(p in ("", "*") for p in parts[3:5]):
            continue
        rest = ":".join(parts[5:])
        service = parts[2].lower()
        if rest in ("", "*"):
            return True
        if (rest == "*/*" if service == "s3" else EVERY_OF_TYPE.match(rest)) or (
            catalogue is not None and _reaches_a_type(rest, catalogue.arn_types.get(service, ()))
        ):
            return True
    return False


def _reaches_a_type(rest: str, probes: tuple[str, ...]) -> bool:
    """The pattern matches a probe (in any case, as globs are judged here). Only probes that start
    with the pattern's literal prefix can: most patterns (`my-bucket/*`, `table/orders`) have
    none, and no regex is compiled for them."""
    literal = LITERAL.match(rest).group().lower()  # type: ignore[union-attr]  # always matches
    candidates = [p for p in probes if p.startswith(literal)]
    return bool(candidates) and any(glob_regex(rest).fullmatch(p) for p in candidates)


@functools.lru_cache(maxsize=65536)
def covers_all_roles(resource: str) -> bool:
    if covers_all((resource,)):  # iam's role type is `role/*`: reached by shape
        return True
    parts = resource.split(":")
    if len(parts) < 6 or parts[2].lower() not in ("iam", "*"):
        return False
    account = parts[4] if parts[4] and "*" not in parts[4] else "123456789012"
    probe = f"arn:aws:iam::{account}:role/some/path/any-role-name"
    return bool(glob_regex(resource).fullmatch(probe))
