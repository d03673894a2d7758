"""The condition keys that decide whether a grant completes an escalation, judged as IAM would
for the request the escalation makes. Pure.

`iam:PassedToService` (which service a role is passed to), `iam:PolicyARN` (which policy may be
attached), `iam:PermissionsBoundary` (the boundary the changed principal must carry),
`iam:AssociatedResourceArn` (what the passed role is attached to), `aws:PrincipalArn` (who is
asking, in a trust policy) and `aws:ViaAWSService` (false: the principal calls IAM itself) are
judged with the IAM operators: `String…`/`Arn…` equality and
globs, their `Not` forms, `ForAnyValue:`/`ForAllValues:` and `…IfExists`, and `Null`. Any other
key depends on the request (tags, source IP, MFA…): the grant is kept and said to be conditioned,
never taken as refused.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JUDGED = frozenset(
    {
        "iam:passedtoservice",
        "iam:policyarn",
        "iam:permissionsboundary",
        "iam:associatedresourcearn",
        "aws:principalarn",
        "aws:viaawsservice",
    }
)
EQUALS = {"stringequals", "stringequalsignorecase", "arnequals"}
LIKE = {"stringlike", "arnlike"}
NEGATED = {
    "stringnotequals": "stringequals",
    "stringnotequalsignorecase": "stringequalsignorecase",
    "stringnotlike": "stringlike",
    "arnnotequals": "arnequals",
    "arnnotlike": "arnlike",
}


@dataclass(frozen=True, slots=True)
class Test:
    operator: str  # the base operator, lower-cased, without qualifier, IfExists or Not
    key: str  # lower-cased
    values: tuple[str, ...]
    negated: bool = False
    if_exists: bool = False


def parse(condition: Any) -> tuple[Test, ...]:
    """A statement's `Condition` block as tests (every one must hold)."""
    tests = []
    for raw_operator, pairs in (condition or {}).items() if isinstance(condition, dict) else ():
        if not isinstance(pairs, dict):
            continue
        operator = str(raw_operator).lower()
        operator = operator.split(":", 1)[1] if ":" in operator else operator  # ForAnyValue:…
        if_exists = operator.endswith("ifexists")
        operator = operator.removesuffix("ifexists")
        negated = operator in NEGATED
        operator = NEGATED.get(operator, operator)
        for key, values in pairs.items():
            listed = values if isinstance(values, list) else [values]
            tests.append(
                Test(operator, str(key).lower(), tuple(str(v) for v in listed), negated, if_exists)
            )
    return tuple(tests)


def judge(tests: tuple[Test, ...], facts: Mapping[str, str | None]) -> bool | None:
    """Whether the condition holds for a request with these facts (a key mapped to None is absent
    from the request): True, False, or None when it depends on a key Shepherd cannot judge."""
    verdict: bool | None = True
    for test in tests:
        if test.key not in facts or test.key not in JUDGED:
            verdict = None
            continue
        held = _holds(test, facts[test.key])
        if held is None:
            verdict = None
        elif not held:
            return False
    return verdict


def keys(tests: tuple[Test, ...]) -> tuple[str, ...]:
    return tuple(sorted({t.key for t in tests}))


def _holds(test: Test, value: str | None) -> bool | None:
    if test.operator == "null":
        wants_absent = any(v.lower() == "true" for v in test.values)
        return (value is None) == wants_absent
    if value is None:
        return test.if_exists  # an absent key satisfies only …IfExists
    if test.operator in EQUALS:
        fold = test.operator == "stringequalsignorecase"
        match = any((v.lower() == value.lower()) if fold else v == value for v in test.values)
    elif test.operator in LIKE:
        match = any(_glob(v, value) for v in test.values)
    elif test.operator == "bool":
        match = any(v.lower() == value.lower() for v in test.values)
    else:
        return None  # Numeric…, Date…, Bool…, IpAddress on these keys: not judged
    return not match if test.negated else match


@functools.lru_cache(maxsize=4096)
def _pattern(glob: str) -> re.Pattern[str]:
    """IAM's `*` and `?`, case-sensitive as StringLike and ArnLike are."""
    return re.compile(
        "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob), re.DOTALL
    )


def _glob(pattern: str, value: str) -> bool:
    return _pattern(pattern).fullmatch(value) is not None
