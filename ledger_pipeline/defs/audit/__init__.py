"""The audit trail in Dagster: seals and their anchors, the log's monthly partitions."""
