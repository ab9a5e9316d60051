"""The statements inbox: each file dropped in the folder (LEDGER_STATEMENTS_INBOX) is imported on
its own, then moved to done/ (imported, or already imported) or to rejected/ beside a .reason
file that says why, in one line. A file that could not be tried (the database unreachable) stays
in the inbox for the next look. Hidden files (.name) are not picked up: write a file under a
hidden name, or elsewhere, and rename it into the inbox when it is complete.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..platform import settings
from ..platform.db import LedgerDatabase
from .importer import ImportResult, import_file
from .model import StatementError

DONE, REJECTED = "done", "rejected"
REFUSED = "refused"


@dataclass(frozen=True)
class Outcome:
    status: str  # imported, already imported, or refused
    moved_to: Path
    result: Optional[ImportResult] = None
    reason: Optional[str] = None  # why it was refused


def pending(inbox: Optional[Path] = None) -> list[Path]:
    """The files waiting in the inbox, by name."""
    inbox = inbox or settings.statements_inbox()
    if not inbox.is_dir():
        return []
    return sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith("."))


def process(db: LedgerDatabase, path: Path) -> Outcome:
    """Imports one inbox file and moves it to done/ or rejected/ (with its .reason)."""
    try:
        result = import_file(db, path)
    except StatementError as exc:
        target = _free(path.parent / REJECTED / path.name)
        reason = str(exc)
        target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
        path.replace(target)
        return Outcome(REFUSED, target, reason=reason)
    target = _free(path.parent / DONE / path.name)
    path.replace(target)
    return Outcome(result.status, target, result=result)


def _free(target: Path) -> Path:
    """``target``, or name-2, name-3 ... when a file of that name was moved there before."""
    target.parent.mkdir(parents=True, exist_ok=True)
    candidate, n = target, 1
    while candidate.exists() or candidate.with_name(candidate.name + ".reason").exists():
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    return candidate
