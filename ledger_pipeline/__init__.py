"""ledger-pipeline: a Dagster code location that guards a double-entry ledger in PostgreSQL.

One package per domain, in the order data flows through them; each imports only from those
before it (tests/test_layout.py holds them to it):
platform/ (settings, connections, the embedded server, migrations, replica) -> ledger/ (posting,
currencies, FX, tax, the balance cache, demo data) -> audit/ (seals, anchors, the log's lifecycle)
-> reconciliation/ (checks, checkpoints, Great Expectations, records) -> alerting/ (messages and
their outbox) -> defs/ (every Dagster definition). cli.py and definitions.py are the entry points.
"""
