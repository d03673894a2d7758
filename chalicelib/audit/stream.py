"""A large JSON object read one list item at a time: `items(path, wanted)`.

`aws iam get-account-authorization-details` of a 30,000-role account is 120 MB of JSON, ~550 MB
once `json.load` has made it objects. The audit needs one principal at a time, so the file is read
in chunks and each item of the top-level lists is decoded alone (by the C decoder) and let go.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from chalicelib.errors import BadInput

CHUNK = 1 << 20  # characters read at a time
_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


class _Reader:
    def __init__(self, path: Path, f: IO[str]) -> None:
        self.path = path
        self.f = f
        self.buf = ""
        self.i = 0
        self.lines = 1  # the line of buf[0]
        self.eof = False

    def _more(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.f.read(CHUNK)
        except UnicodeDecodeError as exc:
            raise BadInput(f"{self.path} is not UTF-8 text: {exc}") from exc
        if not chunk:
            self.eof = True
            return False
        self.lines += self.buf.count("\n", 0, self.i)
        self.buf = self.buf[self.i :] + chunk
        self.i = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end), not consumed."""
        while True:
            buf, i = self.buf, self.i
            while i < len(buf) and buf[i] in _SPACE:
                i += 1
            self.i = i
            if i < len(buf):
                return buf[i]
            if not self._more():
                return ""

    def take(self, char: str, what: str) -> None:
        if self.peek() != char:
            self.bad(f"Expecting {what}", self.i)
        self.i += 1

    def value(self) -> Any:
        """The next JSON value, decoded whole."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.i)
            except json.JSONDecodeError as exc:
                if self._more():
                    continue  # it may only be cut by the chunk
                self.bad(exc.msg, exc.pos)
            if end == len(self.buf) and self._more():
                continue  # a number or a literal may go on in the next chunk
            self.i = end
            return value

    def bad(self, msg: str, pos: int) -> None:
        line = self.lines + self.buf.count("\n", 0, pos)
        ends = self.eof and pos >= len(self.buf.rstrip())
        hint = " (the file ends early: truncated?)" if ends else ""
        raise BadInput(f"{self.path} is not valid JSON at line {line}: {msg}{hint}")


def items(
    path: Path, wanted: frozenset[str], seen: set[str] | None = None
) -> Iterator[tuple[str, Any]]:
    """(key, item) for every item of the top-level lists named in `wanted`, in file order. The
    other values are decoded and dropped; `seen` collects every top-level key met."""
    try:
        f = path.open(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror or exc}") from exc
    with f:
        r = _Reader(path, f)
        if r.peek() == "[":
            raise BadInput(SHAPE)
        r.take("{", "value")
        first = True
        while r.peek() != "}":
            if not first:
                r.take(",", "',' delimiter")
            first = False
            if r.peek() != '"':
                r.bad("Expecting property name enclosed in double quotes", r.i)
            key = r.value()
            r.take(":", "':' delimiter")
            if seen is not None:
                seen.add(key)
            if r.peek() != "[":
                value = r.value()
                if key in LISTS:
                    raise BadInput(f"{key} must be a list")
                if key == "IsTruncated" and value:
                    raise BadInput(
                        f"{path} is one page of a truncated listing (IsTruncated is true): "
                        "fetch every page, e.g. with the AWS CLI's default pagination"
                    )
                continue
            r.i += 1
            keep = key in wanted
            more = r.peek() != "]"
            while more:
                item = r.value()
                if keep:
                    yield key, item
                if r.peek() == ",":
                    r.i += 1
                    continue
                more = False
            r.take("]", "',' delimiter")
        r.i += 1


LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
SHAPE = (
    "not the output of get-account-authorization-details: expected an object with "
    "UserDetailList, GroupDetailList, RoleDetailList or Policies"
)
