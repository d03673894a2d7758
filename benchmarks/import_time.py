"""What a cold start pays for imports: `import app` and the alarm path against `import boto3` alone.

Each figure is the median of fresh interpreter runs. Prints figures; asserts nothing.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
SNIPPETS = {
    "python (nothing)": "pass",
    "import boto3": "import boto3",
    "import app": "import app",
    "import app + alarm path": "import app, chalicelib.alarms.delivery, chalicelib.container",
    # What every function's init builds (its settings, accounts and approvals), and what a
    # runbooks file adds to that (none: nothing is imported or read).
    "import app + settings": "import app, chalicelib.config",
    "import app + settings + runbooks file": (
        "import app, pathlib, chalicelib.config, chalicelib.ops.runbook_file as f; "
        "f.load_runbooks(pathlib.Path('devtools/fleet/runbooks.json'))"
    ),
}


def measure(code: str) -> float:
    script = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def main() -> None:
    results = {name: measure(code) for name, code in SNIPPETS.items()}
    boto3_s = results["import boto3"]
    print(f"{'import':<40}{'ms':>8}{'× boto3':>10}")
    for name, seconds in results.items():
        print(f"{name:<40}{seconds * 1000:>8.1f}{seconds / boto3_s:>10.2f}")
    print("target: import app ≤ 1.5 × import boto3")


if __name__ == "__main__":
    main()
