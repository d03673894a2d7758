"""The alarm path: a delivery's signals → evidence → diagnosis → Slack, once each."""
