"""Alerts on reconciliations: the message a failed or broken run produces, and the outbox in the
ledger database that delivers it through apprise with retries.

May import platform/, ledger/, audit/ and reconciliation/."""
