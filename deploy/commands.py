"""The three operator commands behind `shepherd deploy`, `shepherd secrets set` and
`shepherd doctor` (chalicelib/cli.py parses them)."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path

import boto3

from chalicelib.errors import BadInput
from deploy import slack_app
from deploy.doctor import FAIL, Doctor
from deploy.stack import Deployer, Request

MANIFEST_OUT = Path("build/deploy/slack-app-manifest.yml")


def deploy(
    request: Request,
    session: boto3.Session | None = None,
    out: Callable[[str], None] = print,
    deployer: Deployer | None = None,
) -> int:
    deployer = deployer or Deployer(session or boto3.Session(), out)
    deployed = deployer.deploy(request)
    url = deployed.request_url
    MANIFEST_OUT.parent.mkdir(parents=True, exist_ok=True)
    MANIFEST_OUT.write_text(slack_app.manifest(url), encoding="utf-8")
    secrets = slack_app.Secrets.of_stage(request.stage)
    missing = secrets.missing(deployer.client("ssm"))
    out("")
    out(f"Shepherd is deployed: stack {deployed.stack} {deployed.status}.")
    out(f"Slack request URL: {url}")
    out("")
    out("Next:")
    step = 1
    out(
        f"  {step}. Slack app: api.slack.com/apps → Create New App → From an app manifest, paste "
        f"{MANIFEST_OUT} (the URL is in it), then Install to Workspace. An app made before: "
        "App Manifest → paste it → Save."
    )
    step += 1
    if missing:
        out(
            f"  {step}. Its secrets: `shepherd secrets set --stage {request.stage}` "
            f"(missing in SSM: {', '.join(missing)})."
        )
        step += 1
    out(f"  {step}. Invite the bot to the alarm channel: /invite @shepherd")
    out(f"  {step + 1}. Check it: `shepherd doctor --test-alarm`")
    return 0


def set_secrets(
    stage: str,
    session: boto3.Session | None = None,
    *,
    read: Callable[[str], str] = getpass.getpass,
    out: Callable[[str], None] = print,
    slack_api_url: str | None = None,
) -> int:
    """The bot token and signing secret into SSM, the token checked with Slack first."""
    secrets = slack_app.Secrets.of_stage(stage)
    token = os.environ.get("SLACK_BOT_TOKEN") or read("Bot User OAuth Token (xoxb-…): ")
    signing = os.environ.get("SLACK_SIGNING_SECRET") or read("Signing Secret: ")
    token, signing = token.strip(), signing.strip()
    slack_app.check_token(token)
    slack_app.check_signing_secret(signing)
    from slack_sdk.errors import SlackApiError

    try:
        who = slack_app.web_client(token, slack_api_url).auth_test()
    except SlackApiError as exc:
        raise BadInput(
            f"Slack refused the token ({exc.response.get('error')}): nothing stored"
        ) from exc
    secrets.store((session or boto3.Session()).client("ssm"), token, signing)
    out(
        f"Stored {secrets.token_param} and {secrets.signing_secret_param} (SecureString) for "
        f"bot {who.get('user_id')} in {who.get('team') or who.get('team_id')}. Shepherd reads "
        "them within 5 minutes, or at once when Slack refuses the old ones."
    )
    return 0


def doctor(
    stage: str,
    session: boto3.Session | None = None,
    *,
    test_alarm: bool = False,
    out: Callable[[str], None] = print,
    slack_api_url: str | None = None,
    built: Doctor | None = None,
) -> int:
    found = built or Doctor(session or boto3.Session(), stage, slack_api_url=slack_api_url)
    out(f"Shepherd doctor: stack shepherd-{stage} in {found.region}")
    failed = 0
    for check in found.checks():
        out(check.line())
        failed += check.status == FAIL
    if test_alarm:
        if failed:
            out("  - test alarm       not sent: fix what failed above first")
        else:
            check = found.test_alarm()
            out(check.line())
            failed += check.status == FAIL
    out(f"{failed} check(s) failed." if failed else "Every check passed.")
    sys.stdout.flush()
    return 1 if failed else 0
