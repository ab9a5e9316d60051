"""Bank statements: what the bank (or a payment provider) says happened on an account, read from
camt.053, MT940 and CSV files into the tables of migration 016, one file in one transaction.

The modules here read files and write statements; they import the platform (settings, errors,
db) and the ledger's currency rules, and nothing from reconciliation or Dagster: the checks that
compare statements with the ledger, and the Dagster wiring, build on this package, not the
other way round.
"""
