"""The nightly audit of many accounts: one invocation per account, against one after another.

Each of BENCH_ACCOUNTS (default 20) synthetic accounts has 2,000 roles and 500 managed policies
(benchmarks/iam_audit.py's generator, a different seed each). Each account's audit runs as its
invocation would: a fresh process (`shepherd audit --input FILE --json`, the same analyzer) held
to the CPU share of the audit function's memory (benchmarks/lambda_cpu.py). Printed: each
account's wall time and peak memory, which must fit one Lambda timeout (300 s) and its memory;
then the fleet's wall time both ways. One after another is the sum of the accounts; fanned out, each
account is its own Lambda invocation with its own CPU, so the fleet takes its slowest account plus
the invoke round trip (this machine has 2 cores, so the parallel case is computed from the measured
accounts, not run 20-wide here). Asserts nothing. Run: `python benchmarks/audit_fanout.py`.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.iam_audit import measure, synthetic_account
from benchmarks.lambda_cpu import CpuShare, memory_of, share_of

ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", "20"))
INVOKE_S = 0.05  # a RequestResponse invoke's round trip in-region, beyond the audit itself
TIMEOUT_S = 300


def main() -> None:
    memory = memory_of("nightly_iam_audit")
    work = ROOT / "build" / "bench" / "fleet"
    work.mkdir(parents=True, exist_ok=True)
    shepherd = str(Path(sys.executable).parent / "shepherd")
    walls, peaks = [], []
    with CpuShare(share_of(memory)) as cpu:
        held = f"{memory} MB = {share_of(memory):.0%} of a core"
        print(
            f"{ACCOUNTS} accounts of 2,000 roles; each audit in a fresh process at "
            + (held if cpu.available else f"full core ({cpu.note})")
        )
        for k in range(ACCOUNTS):
            path = work / f"account-{k}.json"
            if not path.exists():
                path.write_text(json.dumps(synthetic_account(seed=100 + k)))
            argv = [shepherd, "audit", "--input", str(path), "--json"]
            if cpu.available and cpu.path is not None:
                argv = [
                    "sh",
                    "-c",
                    f'echo $$ > {cpu.path / "cgroup.procs"} && exec "$@"',
                    "-",
                    *argv,
                ]
            wall, rss, _ = measure(argv)
            walls.append(wall)
            peaks.append(rss)
            print(f"  account {k + 1:>2}: {wall:6.2f} s, peak {rss:5.0f} MB")
    print(
        f"per account: median {statistics.median(walls):.2f} s, slowest {max(walls):.2f} s "
        f"(timeout {TIMEOUT_S} s), peak memory {max(peaks):.0f} MB (configured {memory} MB)"
    )
    print(f"one after another: {sum(walls):7.1f} s")
    print(f"fanned out:        {max(walls) + INVOKE_S:7.1f} s  (slowest account + one invoke)")


if __name__ == "__main__":
    main()
