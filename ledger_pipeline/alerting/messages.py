"""Alerts about reconciliations that failed or broke: what they say. They are sent through apprise
(Slack, e-mail, Teams, PagerDuty, webhooks... one URL each in LEDGER_ALERT_URLS) from the outbox
(outbox.py), or logged when no URL is configured."""

import logging
from dataclasses import dataclass
from typing import Optional

from ..reconciliation.checks import describe_period
from ..reconciliation.recorder import CUT_SHORT

TOP_MISMATCHES = 5


@dataclass(frozen=True)
class Alert:
    title: str
    body: str


def compose(dagster_run_id: str, job_name: str, failed_checks: list[str], failure: Optional[str],
            runs: list[dict], top_mismatches: list[dict]) -> Alert:
    """Three kinds, told apart in the title: checks that failed (a finding about the ledger), a
    reconciliation that broke (it could not check: its row says why), and a run the machinery cut
    short (a start timeout, a worker gone): no reconciliation recorded, or one left unfinished."""
    if failed_checks:
        title = "Ledger reconciliation failed: " + ", ".join(failed_checks)
    elif any(r["status"] == "error" and not cut_short(r) for r in runs):
        title = "Ledger reconciliation broke: it could not check the ledger"
    elif any(r["status"] == "failed" for r in runs):
        title = "Ledger reconciliation failed"
    else:
        title = "Ledger pipeline: a reconciliation run could not complete (not a finding about the ledger)"
    lines = [f"Dagster run {dagster_run_id} ({job_name})"]
    if failed_checks:
        lines.append("Failing checks: " + ", ".join(failed_checks))
    if failure and all(cut_short(r) for r in runs):
        lines.append(f"The run could not complete: {failure}; "
                     + ("its reconciliation was cut short, see below" if runs else "no reconciliation was recorded"))
    elif failure:
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


def cut_short(run: dict) -> bool:
    """A reconciliation whose process ended before it did: still running (the next run closes it),
    or closed as abandoned or interrupted."""
    return run["status"] == "running" or (run["status"] == "error" and (run["error"] or "").startswith(CUT_SHORT))


def log(alert: Alert, log: logging.Logger) -> None:
    """Where alerts go when no URL is configured."""
    log.warning(f"{alert.title}\n{alert.body}")
