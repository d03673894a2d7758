"""What redaction costs: its import on a cold start, and its time per log line.

- import: `chalicelib.diagnosis.logs` in a fresh interpreter, the median of several runs; then, in
  the same fresh interpreter, the first redact() of an alarm's log excerpt (a pattern is compiled
  on its first use) and the compiling of every pattern (what text that calls for all of them
  pays). Beside them, where detect-secrets is installed (it is not a dependency: `pip install
  detect-secrets==1.5.0` to compare), its import and that of the plugins the patterns come from.
- redact: 1,000 log lines of a Lambda function as CloudWatch Logs holds them (START/END/REPORT,
  JSON application logs, a traceback, timeouts; one line in twenty holds a secret), and the
  longest text redact() reads (REDACT_LIMIT) in a few shapes that make regular expressions work
  hardest.

Prints figures; asserts nothing. Run: `.venv/bin/python benchmarks/redaction.py`.
"""

from __future__ import annotations

import importlib.util
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 9
LINES = 1_000
EXCERPT = (
    "from benchmarks.redaction import fleet_log; lines = fleet_log(40);"
    " import chalicelib.diagnosis.logs as logs; t = time.perf_counter();"
    " [logs.redact(line) for line in lines]"
)
COMPILE_ALL = (
    "import chalicelib.diagnosis.logs as logs; t = time.perf_counter();"
    " [p.regex for p in logs.PATTERNS]"
)
# What logs.py takes from the standard library, which the alarm path loads anyway.
STDLIB = "import base64, binascii, collections, dataclasses, functools, re"
IMPORTS = {
    "python (nothing)": "pass",
    "import chalicelib.diagnosis.logs": "import chalicelib.diagnosis.logs",
    "the same, its standard library loaded before": (
        f"{STDLIB}; t = time.perf_counter(); import chalicelib.diagnosis.logs"
    ),
    "first redact() of 40 log lines, after the import": EXCERPT,
    "compiling every pattern, after the import": COMPILE_ALL,
}
# For comparison, where detect-secrets is installed.
DETECT_SECRETS = {
    "import detect_secrets": "import detect_secrets",
    "import detect_secrets + plugins": (
        "import detect_secrets.plugins.aws, detect_secrets.plugins.slack,"
        " detect_secrets.plugins.keyword, detect_secrets.plugins.jwt"
    ),
}


def fresh_ms(code: str) -> float:
    """Median milliseconds from `t` (set first, or again by `code`) to the end of `code`, each
    run in a fresh interpreter."""
    script = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(RUNS):
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip()) * 1000)
    return statistics.median(samples)


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def fleet_log(n: int, seed: int = 7) -> list[str]:
    """n log messages of one function, in the shapes Lambda and its runtimes write them."""
    rnd = random.Random(seed)

    def rid() -> str:
        h = f"{rnd.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def alnum(k: int) -> str:
        return "".join(
            rnd.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", k=k)
        )

    secrets = [
        lambda: f'{{"AccessKeyId": "ASIA{alnum(16).upper()}", "SecretAccessKey": "{alnum(40)}"}}',
        lambda: (
            f"posting to https://hooks.slack.com/services/T{alnum(10)}/B{alnum(10)}/{alnum(24)}"
        ),
        lambda: f"headers {{'x-api-key': '{alnum(32)}', 'Authorization': 'Bearer {alnum(40)}'}}",
        lambda: f"connecting to postgres://orders:{alnum(16)}@db.internal:5432/orders",
    ]
    ordinary = [
        lambda: f"START RequestId: {rid()} Version: $LATEST",
        lambda: f"END RequestId: {rid()}",
        lambda: (
            f"REPORT RequestId: {rid()}\tDuration: {rnd.uniform(5, 900):.2f} ms\tBilled Duration: "
            f"{rnd.randint(5, 900)} ms\tMemory Size: 512 MB\tMax Memory Used: {rnd.randint(80, 300)} MB"
        ),
        lambda: json.dumps(
            {
                "timestamp": "2026-11-22T09:55:01.123Z",
                "level": "INFO",
                "requestId": rid(),
                "message": f"order O-{rnd.randint(1000, 9999)} placed",
                "xray_trace_id": f"1-{rnd.getrandbits(32):08x}-{rnd.getrandbits(96):024x}",
            }
        ),
        lambda: (
            "[ERROR] ClientError: An error occurred (AccessDeniedException) when calling the "
            "GetSecretValue operation: User: arn:aws:sts::123456789012:assumed-role/orders-role/"
            "orders-api is not authorized to perform: secretsmanager:GetSecretValue on resource: "
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/orders/db-AbCdEf"
        ),
        lambda: (
            'Traceback (most recent call last):\n  File "/var/task/handler.py", line 42, in handler\n'
            "    order = orders[event[\"sku\"]]\nKeyError: 'sku'"
        ),
        lambda: f"{rid()} Task timed out after 15.00 seconds",
    ]
    return [rnd.choice(secrets if i % 20 == 19 else ordinary)() for i in range(n)]


def worst_lines(limit: int) -> dict[str, str]:
    rnd = random.Random(11)
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    return {
        "base64 blob": "".join(rnd.choices(b64, k=limit)),
        "dotted words (a.a.a…)": ("a." * limit)[:limit],
        "digits and dashes": ("4-" * limit)[:limit],
        "repeated key names": ("api-key-" * limit)[:limit],
        "JSON body": json.dumps({"items": [{"sku": f"S-{i}", "qty": i} for i in range(limit)]})[
            :limit
        ],
    }


def timed(fn: Callable[..., object], *args: object, repeat: int = 5) -> float:
    """Median seconds of fn(*args)."""
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(*args)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def main() -> None:
    print(f"{'cold (a fresh interpreter each, median of ' + str(RUNS) + ')':<52}{'ms':>8}")
    for name, code in IMPORTS.items():
        print(f"  {name:<50}{fresh_ms(code):>8.1f}")
    for name, code in DETECT_SECRETS.items():
        ms = f"{fresh_ms(code):>8.1f}" if installed("detect_secrets") else "  not installed"
        print(f"  {name:<50}{ms}")

    from chalicelib.diagnosis.logs import REDACT_LIMIT, redact
    from chalicelib.diagnosis.secret_patterns import PATTERNS

    lines = fleet_log(LINES)

    def redact_all(batch: list[str]) -> None:
        for line in batch:
            redact(line)

    s = timed(redact_all, lines)
    print(f"\nredact, {len(PATTERNS)} patterns")
    print(
        f"  {LINES:,} typical log lines{'':<27}{s * 1000:>8.1f} ms ({s / LINES * 1e6:.0f} µs a line)"
    )
    for name, text in worst_lines(REDACT_LIMIT).items():
        print(f"  {len(text):,} chars: {name:<38}{timed(redact, text, repeat=3) * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
