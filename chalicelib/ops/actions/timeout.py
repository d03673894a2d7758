"""`/ops timeout <function> <seconds>`: never above an SQS source's visibility timeout (settings.py)."""

from chalicelib.ops.actions.settings import Timeout

KIND = Timeout()
