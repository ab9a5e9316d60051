"""Bank statements in Dagster: the bank_statements asset, which imports a file and shows what has
been imported, and the sensor that feeds it each file dropped in the inbox."""
