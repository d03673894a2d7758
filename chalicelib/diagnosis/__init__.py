"""Diagnosis: gather evidence around a signal (I/O), then rank causes (pure)."""
