"""Local stand-ins for running and testing Shepherd without AWS or Slack (not shipped to Lambda)."""
