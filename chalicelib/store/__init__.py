"""Shepherd's state, one DynamoDB table: deliveries, alarm threads, actions, audit runs, replay marks.

Each part is a small class over a `Table` (table.py); `memory.MemoryTable` is its in-memory twin.
"""
