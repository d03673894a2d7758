"""Alarms told in a Slack channel: the diagnosis message, then its recovery in place and in thread."""

from __future__ import annotations

from chalicelib.diagnosis.rules import Diagnosis
from chalicelib.events.signals import Alarm
from chalicelib.slack import render
from chalicelib.slack.poster import SlackPoster
from chalicelib.store.alarm_threads import AlarmThread
from chalicelib.units import duration


class SlackAlarmChannel:
    def __init__(self, poster: SlackPoster, channel: str) -> None:
        self.poster = poster
        self.channel = channel

    def post_diagnosis(self, diagnosis: Diagnosis) -> AlarmThread:
        blocks = render.render(diagnosis)
        channel, ts = self.poster.post(self.channel, render.headline(diagnosis), blocks)
        return AlarmThread(channel, ts, diagnosis.evidence.signal.time.timestamp(), blocks)

    def post_unseen_recovery(self, alarm: Alarm) -> None:
        self.poster.post(self.channel, f":large_green_circle: OK: {alarm.name} — {alarm.reason}")

    def post_recovery(self, thread: AlarmThread, alarm: Alarm) -> None:
        took = alarm.time.timestamp() - thread.alarm_time
        blocks = render.render_recovered(thread.blocks, alarm.time, took)
        self.poster.update(thread.channel, thread.ts, f"RESOLVED: {alarm.name}", blocks)
        self.poster.post(
            thread.channel,
            f":large_green_circle: *{alarm.name}* is back to OK after "
            f"{duration(took, exact=True)}.\n>{alarm.reason}",
            thread_ts=thread.ts,
        )
