import datetime as dt
import json
import socket
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest
from aiosmtpd.controller import Controller
from dagster._core.storage.tags import BACKFILL_ID_TAG

from ledger_pipeline.definitions import defs
from ledger_pipeline.defs.alerting.sensors import reconciliation_alerts
from ledger_pipeline.defs.reconciliation.assets import daily_reconciliation, full_reconciliation
from ledger_pipeline.defs.reconciliation.sensors import (
    ESCALATED_FROM_TAG,
    REASON_TAG,
    STALE_RUN_TAG,
    escalate_failed_hourly_check,
    reconcile_late_arrivals,
)
from ledger_pipeline.defs.resources import BalanceCacheResource, LedgerResource
from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.ledger.faults import inject
from ledger_pipeline.ledger.posting import Entry, post_transaction
from ledger_pipeline.reconciliation.checks import CHECK_NAMES
from ledger_pipeline.reconciliation.recorder import history


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def demo(ledger, ledger_url, monkeypatch):
    """A demo ledger that the Definitions' own resources reach (through LEDGER_DATABASE_URL)."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", ledger_url)
    return write_demo_data(ledger, 120, users=3, days=4, seed=21)


def check_evaluations(result) -> dict:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def full_resources(ledger_url: str) -> dict:
    return {"ledger_db": LedgerResource(url=ledger_url), "balance_cache": BalanceCacheResource()}


def escalate(instance, cursor=None):
    """An evaluation of the escalation sensor, reaching the ledger as the Definitions' resource does."""
    with dg.build_sensor_context(instance=instance, definitions=defs, resources={"ledger_db": LedgerResource()},
                                 cursor=cursor) as context:
        return escalate_failed_hourly_check.evaluate_tick(context)


def run_job(name: str, instance, **kwargs):
    return defs.resolve_job_def(name).execute_in_process(instance=instance, raise_on_error=False, **kwargs)


def test_definitions_load_with_every_job_schedule_and_sensor():
    dg.Definitions.validate_loadable(defs)
    for job in ("full_reconciliation_job", "hourly_balance_check_job", "daily_reconciliation_job",
                "fanned_out_backfill_job"):
        assert defs.resolve_job_def(job).name == job
    daily, hourly = defs.resolve_schedule_def("daily_full_reconciliation"), defs.resolve_schedule_def("hourly_balance_check")
    assert (daily.cron_schedule, daily.execution_timezone, daily.job_name) == ("0 2 * * *", "UTC", "full_reconciliation_job")
    assert (hourly.cron_schedule, hourly.execution_timezone, hourly.job_name) == ("0 * * * *", "UTC", "hourly_balance_check_job")
    assert {s.name for s in defs.sensors} == {"escalate_failed_hourly_check", "reconcile_late_arrivals",
                                              "reconciliation_alerts", "statements_inbox",
                                              "external_after_full_reconciliation"}
    assert full_reconciliation.check_keys == {dg.AssetCheckKey(full_reconciliation.key, n) for n in CHECK_NAMES}


def test_the_full_reconciliation_asset_passes_a_clean_ledger(ledger, ledger_url, demo, instance):
    result = dg.materialize([full_reconciliation], resources=full_resources(ledger_url),
                            instance=instance)
    assert result.success
    evaluations = check_evaluations(result)
    assert set(evaluations) == set(CHECK_NAMES) and all(e.passed for e in evaluations.values())
    skipped = evaluations["cached_balances_match_ledger"]  # no LEDGER_REDIS_URL here
    assert skipped.metadata["skipped"].value is True and skipped.severity == dg.AssetCheckSeverity.WARN
    assert skipped.description == "skipped: no cache configured (LEDGER_REDIS_URL is unset)"
    meta = result.asset_materializations_for_node("full_reconciliation")[0].metadata
    [run] = history(ledger, 5)
    assert meta["reconciliation_run_id"].text == str(run["id"]) and run["dagster_run_id"] == result.run_id
    assert meta["total_debits"].value == float(run["total_debits"]) and meta["mismatches"].value == 0
    assert meta["transactions_checked"].value == 120 and "duration_seconds" in meta


def test_a_fault_fails_its_check_with_metadata_while_the_run_succeeds(ledger, ledger_url, demo, instance):
    inject(ledger, demo, "balance-drift")
    result = dg.materialize([full_reconciliation], resources=full_resources(ledger_url),
                            instance=instance, run_config={"ops": {"full_reconciliation": {"config": {"run_type": "daily"}}}})
    assert result.success
    evaluations = check_evaluations(result)
    failed = evaluations["stored_balances_match_entries"]
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["mismatches"].value == 1
    assert failed.metadata["sample"].data[0]["difference"] == "13.3700"
    assert all(e.passed for n, e in evaluations.items() if n != "stored_balances_match_entries")
    assert history(ledger, 1)[0]["run_type"] == "daily"


def test_escalation_once_per_failed_hourly_run_and_never_for_a_passing_one(ledger, demo, instance):
    assert run_job("hourly_balance_check_job", instance).success
    first = escalate(instance)
    assert first.run_requests == []

    inject(ledger, demo, "one-sided-entry")
    failing = run_job("hourly_balance_check_job", instance)
    assert failing.success  # a failed non-blocking check does not fail the run
    second = escalate(instance, first.cursor)
    [request] = second.run_requests
    assert request.run_key == failing.run_id and request.tags[ESCALATED_FROM_TAG] == failing.run_id
    assert request.run_config["ops"]["full_reconciliation"]["config"]["run_type"] == "escalation"
    assert request.job_name in (None, "full_reconciliation_job")

    again = escalate(instance, second.cursor)
    assert again.run_requests == []

    escalated = run_job("full_reconciliation_job", instance, run_config=request.run_config, tags=request.tags)
    assert escalated.success and history(ledger, 1)[0]["run_type"] == "escalation"


def test_an_hourly_run_that_could_not_reach_the_ledger_found_nothing_and_is_not_escalated(
    ledger, ledger_url, demo, instance, monkeypatch
):
    started = escalate(instance)
    monkeypatch.setenv("LEDGER_DATABASE_URL", ledger_url.replace("/ledger_test_", "/no_such_db_"))
    broken = run_job("hourly_balance_check_job", instance)
    assert not broken.success
    data = escalate(instance, started.cursor)
    assert data.run_requests == [] and int(data.cursor) > int(started.cursor)


def test_a_sensor_switched_on_later_does_not_act_on_history(ledger, demo, instance):
    inject(ledger, demo, "one-sided-entry")
    assert run_job("hourly_balance_check_job", instance).success
    first = escalate(instance)
    assert first.run_requests == [] and first.cursor


def test_a_backfill_of_several_days_is_one_run_with_a_row_per_day(ledger, ledger_url, demo, instance):
    today = dt.datetime.now(dt.timezone.utc).date()
    first, last = (today - dt.timedelta(days=3)).isoformat(), (today - dt.timedelta(days=1)).isoformat()
    result = dg.materialize(
        [daily_reconciliation], resources={"ledger_db": LedgerResource(url=ledger_url)}, instance=instance,
        tags={"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last,
              BACKFILL_ID_TAG: "test-backfill"},
    )
    assert result.success
    runs = sorted(history(ledger, 10), key=lambda r: r["partition_key"])
    assert [r["partition_key"] for r in runs] == [first, (today - dt.timedelta(days=2)).isoformat(), last]
    assert {(r["run_type"], r["dagster_run_id"], r["status"]) for r in runs} == {("backfill", result.run_id, "passed")}
    for run in runs:
        day = dt.date.fromisoformat(run["partition_key"])
        assert run["period_start"] == dt.datetime.combine(day, dt.time(), dt.timezone.utc)
        assert run["period_end"] - run["period_start"] == dt.timedelta(days=1)
    assert len(result.asset_materializations_for_node("daily_reconciliation")) == 3
    assert sum(r["transactions_checked"] for r in runs) > 0


def test_a_late_arrival_into_a_reconciled_day_requests_that_day_again_once(ledger, ledger_url, demo, instance):
    yesterday = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).date()
    key = yesterday.isoformat()
    resources = {"ledger_db": LedgerResource(url=ledger_url)}
    assert dg.materialize([daily_reconciliation], resources=resources, instance=instance, partition_key=key).success
    def tick(cursor=None):
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources, cursor=cursor) as context:
            return reconcile_late_arrivals.evaluate_tick(context)

    first = tick()
    assert first.run_requests == [] and first.cursor

    backdated = dt.datetime.combine(yesterday, dt.time(12), dt.timezone.utc)
    with ledger.system_context() as conn:
        post_transaction(conn, "DEPOSIT", [Entry(demo.house("CASH", "USD"), "debit", Decimal(5)),
                                           Entry(demo.wallet(demo.users[0], "USD"), "credit", Decimal(5))],
                         created_at=backdated)
    late = tick(first.cursor)
    [request] = late.run_requests
    [stale_run] = history(ledger, 1)
    assert request.partition_key == key and request.tags[STALE_RUN_TAG] == str(stale_run["id"])
    assert request.tags[REASON_TAG].startswith("late arrival: 2 entries dated from")
    assert request.run_key == f"{key}:{stale_run['id']}"

    rerun = run_job("daily_reconciliation_job", instance, partition_key=key, tags=request.tags)
    assert rerun.success and history(ledger, 1)[0]["transactions_checked"] == stale_run["transactions_checked"] + 1
    assert tick(late.cursor).run_requests == []


class Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        Receiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content.decode("utf8", "replace"))
        return "250 Message accepted for delivery"


def test_alerts_reach_a_local_webhook_and_a_local_smtp_server(ledger, ledger_url, demo, instance, monkeypatch):
    http = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its own readiness, so it needs a real port
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        monkeypatch.setenv("LEDGER_ALERT_URLS", " ".join([
            f"json://127.0.0.1:{http.server_port}/alerts",
            f"mailto://127.0.0.1:{smtp.port}?from=ledger@localhost&to=oncall@localhost&mode=insecure",
        ]))
        resources = {"ledger_db": LedgerResource(url=ledger_url)}
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources) as context:
            started = reconciliation_alerts.evaluate_tick(context)
        inject(ledger, demo, "unbalanced-pair")
        inject(ledger, demo, "negative-liability")
        failing = run_job("full_reconciliation_job", instance)
        assert failing.success
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources,
                                     cursor=started.cursor) as context:
            data = reconciliation_alerts.evaluate_tick(context)
        with dg.build_sensor_context(instance=instance, definitions=defs, cursor=data.cursor,
                                     resources=resources) as context:
            again = reconciliation_alerts.evaluate_tick(context)
    finally:
        http.shutdown()
        smtp.stop()
    [posted] = Receiver.received
    for text in (posted["title"] + posted["message"], mailbox.messages[0]):
        assert "transactions_balanced" in text and "liability_balances_non_negative" in text
        assert "stored_balances_match_entries" not in text.split("Top mismatches")[0]
    assert "difference -25.0000" in posted["message"] and failing.run_id in posted["message"]
    assert len(mailbox.messages) == 1
    assert data.skip_message.startswith("1 new alert(s); 2 delivered")
    assert again.skip_message == "0 new alert(s); 0 delivered"
