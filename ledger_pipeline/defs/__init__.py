"""Every Dagster definition of the code location, by domain: ledger/ (the schema and the reports),
reconciliation/ (its assets and checks, jobs, schedules and sensors), audit/ (seals and partitions),
alerting/ (the alert sensor), the shared daily partitions, resources, run history and the run
launcher. Loaded as Dagster's `dg` layout loads a defs folder (definitions.py).

The only package that imports Dagster; it may import every other package of ledger_pipeline."""
