"""Every envelope an alarm or a destination record arrives in, as AWS delivers it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from chalicelib.events.ingest import parse_event
from chalicelib.events.signals import Alarm, FailureRecord
from tests.conftest import load_event

FIRED = datetime(2026, 11, 22, 10, 21, 7, 512000, tzinfo=UTC)


def only(event: object) -> Alarm | FailureRecord:
    batch = parse_event(event)
    assert batch.skipped == [], batch.skipped
    [signal] = batch.signals
    return signal


def test_an_https_subscription_s_notification_json_carries_the_alarm() -> None:
    alarm = only(load_event("envelopes/https-sns-notification.json"))
    assert isinstance(alarm, Alarm)
    assert (alarm.name, alarm.region, alarm.time) == ("billing-export-errors", "eu-west-2", FIRED)


def test_sns_to_sqs_fan_out_an_sqs_body_that_is_a_notification() -> None:
    alarm = only(load_event("envelopes/sqs-from-sns-alarm.json"))
    assert isinstance(alarm, Alarm) and alarm.name == "billing-export-errors"
    assert alarm.metrics[0].dimensions == {"FunctionName": "billing-export"}


def test_a_destination_record_fanned_out_through_a_topic_to_a_queue() -> None:
    record = load_event("lambda-destination-on-failure.json")
    notification = load_event("envelopes/https-sns-notification.json")
    notification["Message"] = json.dumps(record)
    event = load_event("envelopes/sqs-from-sns-alarm.json")
    event["Records"][0]["body"] = json.dumps(notification)
    failure = only(event)
    assert isinstance(failure, FailureRecord) and failure.function_name == "invoice-mailer"


def test_an_old_long_region_name_is_read_and_the_topic_arn_is_the_fallback() -> None:
    alarm = only(load_event("envelopes/sns-old-region-name.json"))
    assert isinstance(alarm, Alarm) and alarm.region == "us-west-2"
    assert alarm.arn == "arn:aws:cloudwatch:us-west-2:123456789012:alarm:billing-export-errors"
    event = load_event("envelopes/sns-old-region-name.json")
    sns = event["Records"][0]["Sns"]
    message = json.loads(sns["Message"])
    message["Region"] = "Somewhere New (Region 9)"  # a name botocore does not know yet
    sns["Message"] = json.dumps(message)
    assert only(event).region == "us-west-2"  # from arn:aws:sns:us-west-2:…


def test_a_garbled_state_change_time_keeps_the_alarm_with_the_time_sns_sent_it() -> None:
    event = load_event("sns-alarm-without-arn.json")
    sns = event["Records"][0]["Sns"]
    message = json.loads(sns["Message"])
    message["StateChangeTime"] = "22/11/2026 10:21"
    sns["Message"] = json.dumps(message)
    alarm = only(event)
    assert alarm.time == datetime(2026, 11, 22, 10, 21, 7, 601000, tzinfo=UTC)  # SNS Timestamp


def test_a_success_destination_record_is_not_a_failure_in_any_envelope() -> None:
    record = load_event("envelopes/lambda-destination-on-success.json")
    bridge = {
        "version": "0",
        "id": "bd3a9d7c-0fd2-4bd4-b6c7-0d5e0c4b2c55",
        "detail-type": "Lambda Function Invocation Result - Success",
        "source": "lambda",
        "account": "123456789012",
        "time": "2026-11-22T09:58:03Z",
        "region": "us-east-1",
        "resources": [record["requestContext"]["functionArn"]],
        "detail": record,
    }
    queued = load_event("sqs-wrapped-destination-record.json")
    queued["Records"][0]["body"] = json.dumps(record)
    for event in (record, bridge, queued):
        batch = parse_event(event)
        assert batch.signals == []
        [skipped] = batch.skipped
        assert "on-success destination record" in skipped.reason
        assert "invoice-mailer" in skipped.reason
