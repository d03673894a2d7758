"""CloudWatch calls moto lacks (alarm mute rules, metric widget images), against botocore's shapes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib.aws.cloudwatch import MuteRules, iso_duration

START = datetime(2026, 12, 1, 12, 7, tzinfo=UTC)
END = datetime(2026, 12, 1, 16, 7, 30, tzinfo=UTC)


@pytest.fixture
def cw() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("cloudwatch", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_a_snooze_is_a_one_time_mute_window_that_expires(cw: Any) -> None:
    client, stubber = cw
    stubber.add_response(
        "put_alarm_mute_rule",
        {},
        {
            "Name": "shepherd-snooze-x",
            "Description": "Shepherd snooze of orders errors",
            "Rule": {
                "Schedule": {
                    "Expression": "at(2026-12-01T12:07)",
                    "Duration": "PT4H1M",  # to the end, rounded up to the minute
                    "Timezone": "UTC",
                }
            },
            "MuteTargets": {"AlarmNames": ["orders errors"]},
            "Tags": [{"Key": "shepherd-action", "Value": "a1"}],
            "ExpireDate": END,
        },
    )
    MuteRules(client).put(
        "shepherd-snooze-x", "orders errors", START, END, {"shepherd-action": "a1"}
    )


def test_a_mute_rule_is_read_back_with_its_expiry_and_status(cw: Any) -> None:
    client, stubber = cw
    stubber.add_response(
        "get_alarm_mute_rule",
        {
            "Name": "r",
            "MuteTargets": {"AlarmNames": ["a"]},
            "StartDate": START,
            "ExpireDate": END,
            "Status": "ACTIVE",
        },
        {"AlarmMuteRuleName": "r"},
    )
    rule = MuteRules(client).get("r")
    assert rule is not None
    assert (rule.alarms, rule.expires, rule.status) == (("a",), END, "ACTIVE")


def test_a_missing_mute_rule_is_none_and_delete_is_plain(cw: Any) -> None:
    client, stubber = cw
    stubber.add_client_error("get_alarm_mute_rule", "ResourceNotFoundException", "no rule")
    stubber.add_response("delete_alarm_mute_rule", {}, {"AlarmMuteRuleName": "r"})
    assert MuteRules(client).get("r") is None
    MuteRules(client).delete("r")


def test_iso_durations_of_whole_minutes() -> None:
    assert [iso_duration(m) for m in (1, 60, 61, 1440, 1530, 21600)] == [
        "PT1M",
        "PT1H",
        "PT1H1M",
        "P1D",
        "P1DT1H30M",
        "P15D",
    ]


def test_a_widget_image_is_asked_for_as_png(cw: Any) -> None:
    from chalicelib.aws.cloudwatch import CloudWatchApi

    client, stubber = cw
    stubber.add_response(
        "get_metric_widget_image",
        {"MetricWidgetImage": b"\x89PNG\r\n\x1a\n..."},
        {"MetricWidget": '{"metrics": []}', "OutputFormat": "png"},
    )
    assert CloudWatchApi(client).widget_image('{"metrics": []}').startswith(b"\x89PNG")


def test_a_refused_widget_image_is_a_typed_error(cw: Any) -> None:
    from chalicelib.aws.cloudwatch import CloudWatchApi
    from chalicelib.aws.errors import Invalid

    client, stubber = cw
    stubber.add_client_error("get_metric_widget_image", "ValidationException", "bad widget")
    with pytest.raises(Invalid):
        CloudWatchApi(client).widget_image("{}")
