"""The statements inbox sensor: each file dropped in LEDGER_STATEMENTS_INBOX is imported in a run of
its own, which materializes bank_statements."""

import dagster as dg

from ...statements import inbox
from ..automation import asset_job, running_sensor
from .assets import bank_statements

import_statement_job = asset_job(
    "import_statement_job", bank_statements,
    "Import one bank statement file (config: its path), then report what has been imported.",
)


@running_sensor(30, "Import each file dropped in the statements inbox (LEDGER_STATEMENTS_INBOX), one run per file.",
                job=import_statement_job)
def statements_inbox(context: dg.SensorEvaluationContext):
    for path in inbox.pending():
        found = path.stat()
        # A file replaced under the same name is a new request; the same one is asked for once.
        yield dg.RunRequest(
            run_key=f"{path.name}:{found.st_size}:{found.st_mtime_ns}",
            run_config={"ops": {"bank_statements": {"config": {"path": str(path)}}}},
        )
