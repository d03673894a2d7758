"""`/ops memory <function> <MB>`: previewed with its monthly cost change (settings.py)."""

from chalicelib.ops.actions.settings import Memory

KIND = Memory()
