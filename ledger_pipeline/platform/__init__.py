"""The platform under everything: settings (the only reader of the environment), connections and
the ledger database's pool and security contexts, the embedded PostgreSQL server, migrations, the
streaming replica, the SQL files under sql/, and the processes `start` runs (dev, supervisor).

Imports nothing else of ledger_pipeline."""
