"""The ledger itself: the posting path (balanced transactions through the SQL function), currencies,
FX conversions, VAT, the hot-balance cache in Redis, the trial balance, and the demo ledger and
its faults.

May import platform/ only."""
