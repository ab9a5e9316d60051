"""Alerts wait in the outbox while their channel is down and are delivered exactly once when it is
back; an alert the channel keeps refusing holds up none of the others."""

import dagster as dg
import psycopg
import pytest
from alert_receiver import AlertReceiver, closed_port

from ledger_pipeline.alerting import outbox as alert_outbox
from ledger_pipeline.alerting.messages import Alert
from ledger_pipeline.definitions import defs
from ledger_pipeline.defs.alerting.sensors import reconciliation_alerts
from ledger_pipeline.defs.resources import LedgerResource
from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.ledger.faults import inject


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def outbox(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT alert_key, channel, attempts, delivered_at IS NOT NULL, last_error"
                            " FROM alert_outbox ORDER BY id").fetchall()


def test_a_channel_down_then_back_receives_each_alert_exactly_once_and_a_stuck_one_blocks_none(
    ledger, ledger_url, instance, monkeypatch
):
    monkeypatch.setenv("LEDGER_DATABASE_URL", ledger_url)
    monkeypatch.setenv("LEDGER_ALERT_RETRY_SECONDS", "0")  # every failed alert is due again at the next tick
    demo = write_demo_data(ledger, 40, users=2, days=2, seed=8)
    steady = AlertReceiver().start()
    port = closed_port()
    monkeypatch.setenv("LEDGER_ALERT_URLS", f"{steady.url} json://127.0.0.1:{port}/alerts")
    resources = {"ledger_db": LedgerResource(url=ledger_url)}

    def tick(cursor):
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources, cursor=cursor) as context:
            return reconciliation_alerts.evaluate_tick(context)

    cursor = tick(None).cursor
    inject(ledger, demo, "one-sided-entry")
    job = defs.resolve_job_def("hourly_balance_check_job")
    runs = [job.execute_in_process(instance=instance).run_id for _ in range(3)]
    down = alert_outbox.channel(f"json://127.0.0.1:{port}/alerts")

    first = tick(cursor)
    assert [len(steady.about(run)) for run in runs] == [1, 1, 1]  # the channel that is up is not held up
    rows = [r for r in outbox(ledger_url) if r[1] == down]
    assert [(key, attempts, delivered) for key, _, attempts, delivered, _ in rows] == [
        (runs[0], 1, False), (runs[1], 0, False), (runs[2], 0, False)]  # one refusal: the rest wait, untried
    assert "Connection" in rows[0][4]
    assert "3 waiting" in first.skip_message
    second = tick(first.cursor)  # still down

    # Back, but it refuses the first run's alert twice more: the alerts behind it go through.
    back = AlertReceiver(port, refuse=lambda alert: runs[0] in alert["message"] and len(back.refused) < 2).start()
    try:
        cursor, ticks = second.cursor, 0
        while any(not delivered for _, _, _, delivered, _ in outbox(ledger_url)):
            cursor = tick(cursor).cursor
            ticks += 1
            assert ticks < 10, outbox(ledger_url)
        assert tick(cursor).skip_message == "0 new alert(s); 0 delivered"  # and nothing more is sent
    finally:
        back.stop()
        steady.stop()
    assert [len(back.about(run)) for run in runs] == [1, 1, 1]
    assert [len(steady.about(run)) for run in runs] == [1, 1, 1]
    assert len(back.refused) == 2
    order = [next(run for run in runs if run in a["message"]) for a in back.received]
    assert order[-1] == runs[0]  # the stuck alert came last, after the ones queued behind it


def test_queuing_an_alert_twice_stores_it_once(ledger):
    urls = ["json://127.0.0.1:9/a", "json://127.0.0.1:9/b"]
    alert = Alert("title", "body")
    assert alert_outbox.enqueue(ledger, "run-1", alert, urls) == 2
    assert alert_outbox.enqueue(ledger, "run-1", alert, urls) == 0
    with ledger.system_context() as conn:
        channels = [c for (c,) in conn.execute("SELECT channel FROM alert_outbox")]
    assert sorted(channels) == sorted(alert_outbox.channel(u) for u in urls)
    assert not any("127.0.0.1" in c for c in channels)  # URLs (and their tokens) stay out of the table


def test_with_the_ledger_database_out_of_reach_the_alert_is_sent_directly_once(ledger_url, instance, monkeypatch):
    unreachable = ledger_url.replace("/ledger_test_", "/no_such_db_")
    monkeypatch.setenv("LEDGER_DATABASE_URL", unreachable)
    receiver = AlertReceiver().start()
    monkeypatch.setenv("LEDGER_ALERT_URLS", receiver.url)
    resources = {"ledger_db": LedgerResource(url=unreachable)}

    def tick(cursor):
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources, cursor=cursor) as context:
            return reconciliation_alerts.evaluate_tick(context)

    try:
        cursor = tick(None).cursor
        broken = defs.resolve_job_def("hourly_balance_check_job").execute_in_process(instance=instance,
                                                                                    raise_on_error=False)
        assert not broken.success
        first = tick(cursor)
        again = tick(first.cursor)
    finally:
        receiver.stop()
    [alert] = receiver.about(broken.run_id)
    assert "could not be read" in alert["message"]
    assert "1 new alert(s); the outbox is out of reach" in first.skip_message
    assert again.skip_message.startswith("0 new alert(s)") and len(receiver.received) == 1
