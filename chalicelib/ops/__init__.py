"""`/ops`: the command grammar, read-only answers, and changes that are previewed and undoable."""
