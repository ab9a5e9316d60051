"""On the first start of the pipeline (a Dagster instance that has never run these jobs), launch
through the queue what the schedules would launch, so the UI shows the pipeline at work within a
minute: the schema, a full reconciliation and an hourly check, with their asset checks and metadata.
Otherwise every asset would read "Never materialized", the schema and demo data having been
written outside Dagster."""

import json
import time
import urllib.request

FIRST_JOBS = ("ledger_schema_job", "full_reconciliation_job", "hourly_balance_check_job")
FIRST_START_TAG = "ledger/first_start"
WAIT_SECONDS = 180


def launch_first_runs(host: str, port: int, say) -> list[str]:
    """Submits FIRST_JOBS to the webserver at host:port once it answers, if its instance has run
    none of them yet; returns the run ids submitted (none on any later start)."""
    from dagster_graphql import DagsterGraphQLClient  # imports Dagster: only start pays for it

    if not _answering(f"http://{host}:{port}/server_info"):
        say(f"the webserver did not answer within {WAIT_SECONDS} s: no first runs launched")
        return []
    if _has_runs(f"http://{host}:{port}/graphql"):
        return []
    client = DagsterGraphQLClient(host, port_number=port)
    launched = [client.submit_job_execution(job, tags={FIRST_START_TAG: "true"}) for job in FIRST_JOBS]
    say("first start: launched " + ", ".join(FIRST_JOBS) + " through the queue; watch them under Runs")
    return launched


def _has_runs(graphql: str) -> bool:
    """Whether any of FIRST_JOBS has run: other runs may come first (the inbox sensor imports the
    demo's bank statements as soon as the daemon starts)."""
    runs = " ".join(f'job{n}: runsOrError(filter: {{pipelineName: "{job}"}}, limit: 1)'
                    " { ... on Runs { results { runId } } }" for n, job in enumerate(FIRST_JOBS))
    query = json.dumps({"query": f"{{ {runs} }}"}).encode()
    request = urllib.request.Request(graphql, query, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        data = json.load(response)["data"]
    return any(data[f"job{n}"]["results"] for n in range(len(FIRST_JOBS)))


def _answering(url: str) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return True
        except OSError:
            pass
        time.sleep(1)
    return False
