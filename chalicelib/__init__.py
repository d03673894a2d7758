"""Shepherd: a Slack ops bot for AWS Lambda fleets."""
