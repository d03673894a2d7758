"""The scheduled audit across accounts: one Lambda invocation per account, one summary.

The schedule's invocation fans out: it invokes the audit function once per account (Shepherd's
own and each configured member) and waits for them in parallel, each within its own Lambda timeout.
Each audits its account, stages its findings' keys in the store, and answers with the staged
generation and what is new and fixed; an account that cannot be assumed answers why, and is
reported, not fatal. The summary names every account; each account's run is promoted to latest
after the post, so a failed post is retried by the next night.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from chalicelib.audit import report
from chalicelib.audit.runs import run
from chalicelib.aws.errors import AwsError
from chalicelib.aws.session import Aws
from chalicelib.store.audit_runs import AuditRuns

log = logging.getLogger(__name__)
FAN_OUT = 16  # accounts audited at once
ONE_ACCOUNT = "shepherd_audit_account"  # the payload key of one account's invocation
AUDIT_TIMEOUT_S = 300  # the audit function's timeout: an invocation is waited for this long


def lambda_invoker(client: Any, function: str) -> Callable[[str], dict[str, Any]]:
    """One account's audit as an invocation of the audit function (RequestResponse)."""

    def invoke(account: str) -> dict[str, Any]:
        response = client.invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=json.dumps({ONE_ACCOUNT: account}).encode(),
        )
        body = json.loads(response["Payload"].read() or b"{}")
        if response.get("FunctionError"):
            return {"account": account, "error": str(body.get("errorMessage", body))[:300]}
        return dict(body)

    return invoke


def audit_account(aws: Aws, runs: AuditRuns, account: str) -> dict[str, Any]:
    """One account's audit, as its invocation answers it (JSON); nothing stored yet."""
    try:
        current = run(aws.iam(aws.key(account)))
    except (AwsError, LookupError) as exc:
        return {"account": account, "error": f"{getattr(exc, 'code', type(exc).__name__)}: {exc}"}
    previous = runs.latest()
    change = report.diff(previous, current)
    return {
        "account": account,
        "first": previous is None,
        "counts": report.counts(current),
        **change.counts(),
        "details": report.thread_texts(
            change.new, None if previous is None else change.fixed, changed=change.changed
        ),
        # Staged, not sent: 100,000 keys are megabytes, over Lambda's 6 MB response limit.
        "staged": runs.stage([f.key for f in current.findings]),
        "summary": current.summary(),
    }


@dataclass(frozen=True)
class FleetPosted:
    accounts: int
    new: int
    fixed: int
    unreachable: int
    posted: bool

    def counts(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "new": self.new,
            "fixed": self.fixed,
            "unreachable": self.unreachable,
            "posted": self.posted,
        }


def scheduled_fleet(
    accounts: list[tuple[str, str]],  # (id, name); ("", "own") for Shepherd's account
    invoke: Callable[[str], dict[str, Any]],  # account id -> its invocation's answer
    runs_for: Callable[[str], AuditRuns],
    slack: Any,
    channel: str,
) -> FleetPosted:
    with ThreadPoolExecutor(min(FAN_OUT, len(accounts)), "audit-fan-out") as pool:
        answers = list(pool.map(lambda a: _asked(invoke, a[0]), accounts))
    names = dict(accounts)
    lines, details = [], []
    for answer in answers:
        name = names.get(answer["account"], answer["account"])
        if "error" in answer:
            lines.append(f"• *{name}*: could not be audited ({answer['error']})")
            continue
        moved = answer.get("changed", 0)
        what = (
            "first run"
            if answer["first"]
            else f"{answer['new']} new, {answer['fixed']} fixed"
            + (f", {moved} changed" if moved else "")
        )
        lines.append(f"• *{name}*: {what} · {answer['counts']}")
        if _moved(answer):
            details += [f"*{name}*\n{text}" for text in answer["details"]]
    done = [a for a in answers if "error" not in a]
    unreachable = len(answers) - len(done)
    changed = any(_moved(a) for a in done)
    if changed or unreachable:
        title = f"IAM wildcard audit of {len(accounts)} accounts"
        text = f"{title}\n" + "\n".join(lines)
        posted_in, ts = slack.post(channel, text[:3900], [_section(text[:2900])])
        for chunk in details:
            slack.post(posted_in, chunk[:3900], thread_ts=ts)
    for answer in done:  # after the post: a failed post is retried by the next run
        change = {k: answer.get(k, 0) for k in ("new", "fixed", "changed")}
        runs_for(answer["account"]).promote(answer["staged"], {**answer["summary"], **change})
    return FleetPosted(
        len(accounts),
        sum(a["new"] for a in done),
        sum(a["fixed"] for a in done),
        unreachable,
        changed or bool(unreachable),
    )


def _moved(answer: dict[str, Any]) -> bool:
    return bool(answer["first"] or answer["new"] or answer["fixed"] or answer.get("changed"))


def _asked(invoke: Callable[[str], dict[str, Any]], account: str) -> dict[str, Any]:
    try:
        return invoke(account)
    except Exception as exc:  # the invocation itself failed: reported with the others
        log.warning("the audit of account %s failed", account or "own", exc_info=True)
        return {"account": account, "error": f"{type(exc).__name__}: {exc}"}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
