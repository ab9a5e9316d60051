"""Alerts about reconciliations that failed or broke: what they say. They are sent through apprise
(Slack, e-mail, Teams, PagerDuty, webhooks... one URL each in LEDGER_ALERT_URLS) from the outbox
(outbox.py), or logged when no URL is configured."""

import logging
from dataclasses import dataclass
from typing import Optional

from ..reconciliation.checks import describe_period

TOP_MISMATCHES = 5


@dataclass(frozen=True)
class Alert:
    title: str
    body: str


def compose(dagster_run_id: str, job_name: str, failed_checks: list[str], failure: Optional[str],
            runs: list[dict], top_mismatches: list[dict]) -> Alert:
    what = "broke" if failure or any(r["status"] == "error" for r in runs) else "failed"
    title = f"Ledger reconciliation {what}: " + (", ".join(failed_checks) or "the run did not complete")
    lines = [f"Dagster run {dagster_run_id} ({job_name})"]
    if failed_checks:
        lines.append("Failing checks: " + ", ".join(failed_checks))
    if failure:
        lines.append(f"Run failure: {failure}")
    for run in runs:
        scope = run["partition_key"] or describe_period(run["period_start"], run["period_end"])
        line = f"Reconciliation {run['id']} ({run['run_type']}, {scope}): {run['status']}, {run['mismatch_count'] or 0} mismatches"
        lines.append(line + (f"; error: {run['error']}" if run["error"] else ""))
    if top_mismatches:
        lines.append("Top mismatches:")
        for item in top_mismatches:
            details = item["details"] or {}
            subject = details.get("account_code") or item["transaction_id"] or item["account_id"] or "ledger total"
            lines.append(f"- {item['check_name']}: {subject} {item['currency'] or ''} expected {item['expected']}"
                         f" actual {item['actual']} difference {item['difference']}")
    return Alert(title, "\n".join(lines))


def log(alert: Alert, log: logging.Logger) -> None:
    """Where alerts go when no URL is configured."""
    log.warning(f"{alert.title}\n{alert.body}")
