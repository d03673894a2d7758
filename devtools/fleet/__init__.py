"""A demo fleet: functions, queues, metrics and logs seeded into an AWS emulator, one failure each.

`seed(kinds)` runs a scenario per diagnosis kind (scenarios.py) through a Seeder (seeder.py) and
returns the event the alarm or destination would deliver, built from the captured payloads in
tests/events/ (events.py).
"""

from devtools.fleet.events import sns_event
from devtools.fleet.scenarios import (
    COMPOUND,
    DEMO,
    SCENARIOS,
    Scenario,
    failed_deliveries,
    iam_drift,
    releases,
    seed,
    seed_compound,
)
from devtools.fleet.seeder import Seeder
from devtools.fleet.storm import storm

__all__ = [
    "COMPOUND",
    "DEMO",
    "SCENARIOS",
    "Scenario",
    "Seeder",
    "failed_deliveries",
    "iam_drift",
    "releases",
    "seed",
    "seed_compound",
    "sns_event",
    "storm",
]
