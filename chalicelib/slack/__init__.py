"""Slack: rendering (pure), posting, and the listeners of the /slack/events endpoint."""
