"""Long commands show progress: a bar with a rate and an estimate in a terminal, plain periodic
lines elsewhere."""

import io
import os

from test_cli import run

from ledger_pipeline.platform import progress
from ledger_pipeline.platform.progress import Progress


def test_without_a_terminal_plain_lines_say_how_far_how_fast_and_how_long(monkeypatch):
    monkeypatch.setattr(progress, "LOG_EVERY_SECONDS", 0)
    out = io.StringIO()
    with Progress("demo-data", 1_000, "transactions", stream=out) as bar:
        bar.advance(250)
        bar.advance(750)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("demo-data: 250 of 1,000 transactions (25%), ") and lines[0].endswith(" left")
    assert "/s, about " in lines[0]
    assert lines[-1].startswith("demo-data: 1,000 of 1,000 transactions in ")


def test_in_a_terminal_a_bar():
    master, replica = os.openpty()
    with open(replica, "w") as terminal:
        with Progress("demo-data", 1_000, "transactions", stream=terminal) as bar:
            bar.advance(1_000)
    shown = _drain(master)
    assert "demo-data: 100%" in shown and "transactions/s" in shown


def _drain(master: int) -> str:
    """Reads until the closed terminal's end: one read returns only what one write put there, and
    tqdm writes the bar's first and last states apart."""
    chunks = []
    try:
        while chunk := os.read(master, 4096):
            chunks.append(chunk)
    except OSError:
        pass
    os.close(master)
    return b"".join(chunks).decode()


def test_demo_data_reports_its_progress(ledger_url):
    done = run("demo-data", "--transactions", "600", "--seed", "3", url=ledger_url)
    assert done.returncode == 0, done.stderr
    assert "demo-data: 600 of 600 transactions in " in done.stderr
    assert "wrote 600 transactions" in done.stdout
