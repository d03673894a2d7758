"""Where an account's authorization details come from, in the order the audit reads them.

The audit needs the managed policies and the groups before it can judge a principal, and then one
principal at a time: `first()` yields ("Policies", policy) and ("GroupDetailList", group) items,
`then()` ("RoleDetailList", role) and ("UserDetailList", user) items. A file is read twice, an
item at a time (stream.py); the account is paged twice with GetAccountAuthorizationDetails'
Filter (chalicelib/aws/iam.py). Nothing holds the whole listing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from chalicelib.audit import stream
from chalicelib.errors import BadInput

FIRST = ("Policies", "GroupDetailList")  # the lists each pass reads, in this order
THEN = ("RoleDetailList", "UserDetailList")


class Details(Protocol):
    def first(self) -> Iterator[tuple[str, Any]]: ...

    def then(self) -> Iterator[tuple[str, Any]]: ...


class InMemory:
    """Details already loaded (one dict in the shape of the CLI's output)."""

    def __init__(self, details: dict[str, Any]) -> None:
        check_shape(details)
        self.details = details

    def first(self) -> Iterator[tuple[str, Any]]:
        return self._lists(FIRST)

    def then(self) -> Iterator[tuple[str, Any]]:
        return self._lists(THEN)

    def _lists(self, keys: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
        for key in keys:
            for item in self.details.get(key, []):
                yield key, item


class File:
    """A file as `aws iam get-account-authorization-details` writes it, streamed."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def first(self) -> Iterator[tuple[str, Any]]:
        seen: set[str] = set()
        yield from stream.items(self.path, frozenset(FIRST), seen)
        if not seen & set(stream.LISTS):
            raise BadInput(stream.SHAPE)

    def then(self) -> Iterator[tuple[str, Any]]:
        return stream.items(self.path, frozenset(THEN))


def check_shape(details: Any) -> None:
    if not isinstance(details, dict) or not any(k in details for k in stream.LISTS):
        raise BadInput(stream.SHAPE)
    for key in stream.LISTS:
        if not isinstance(details.get(key, []), list):
            raise BadInput(f"{key} must be a list")
    if details.get("IsTruncated"):
        raise BadInput(
            "one page of a truncated listing (IsTruncated is true): fetch every page, e.g. "
            "with the AWS CLI's default pagination"
        )
