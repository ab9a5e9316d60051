"""The tamper-evident audit trail: seals (a hash chain over the audit log), anchors of the chain
outside the ledger database, the checks that verify both, and the log's monthly lifecycle.

May import platform/ only."""
