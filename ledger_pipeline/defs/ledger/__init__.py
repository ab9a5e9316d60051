"""The ledger's own assets: its schema and the reports made from it."""
