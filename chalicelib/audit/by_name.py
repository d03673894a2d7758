"""What the catalogue does not know is still granted: judged by its name, and said so.

`svc:*` of a service the catalogue lacks is a service wildcard; actions it lacks that are not
read-named, on every resource, are a resource wildcard. Both say which catalogue they were
missing from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from chalicelib.audit.catalogue import ActionSet, Catalogue
from chalicelib.audit.policy import Statement
from chalicelib.audit.raw import Raw, listed

ACTION_NAME = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")  # what IAM accepts as an action
# Only for actions the catalogue lacks: what AWS names reads (Test*: events:TestEventPattern,
# Validate*: cloudformation:ValidateTemplate, Simulate*: iam:SimulatePrincipalPolicy, Verify*:
# kms:Verify…).
READ_NAMES = re.compile(
    r"^(?:Get|List|Describe|View|Search|Query|BatchGet|Lookup|Read|Test|Validate|Verify|Check|Simulate)",
    re.I,
)


def uncatalogued(s: Statement, catalogue: Catalogue) -> tuple[str, ...]:
    """The statement's action patterns that name nothing in the catalogue."""
    if s.not_action:
        return ()
    return tuple(
        a
        for a in s.actions
        if not catalogue.knows(a) and a.strip() not in ("*", "*:*") and not catalogue.expand(a)
    )


def by_name(
    missing: tuple[str, ...],  # the statement's uncatalogued patterns
    granted: ActionSet,
    everything: bool,
    catalogue: Catalogue,
    raw: Callable[[str, str, ActionSet], Raw],
    resources: str,
) -> Iterator[Raw]:
    names = (*missing, *sorted(granted.unknown))
    unknown = list(dict.fromkeys(a.strip().lower() for a in names if ACTION_NAME.match(a.strip())))
    why = f"not in the catalogue {catalogue.label}: judged by name"
    for pattern in unknown:
        service, _, action = pattern.partition(":")
        if action == "*" and service and not catalogue.of_service(service):
            named = ActionSet(0, frozenset([pattern]))
            yield raw(
                "service_wildcard", f"Allow {pattern}: every action of {service} ({why})", named
            )
    writes = tuple(
        p for p in unknown if not p.endswith(":*") and not READ_NAMES.match(p.split(":", 1)[1])
    )
    if writes and everything:
        named = ActionSet(0, frozenset(writes))
        yield raw(
            "resource_wildcard",
            f"{len(writes)} action(s) {listed(writes)} on {resources} ({why})",
            named,
        )
