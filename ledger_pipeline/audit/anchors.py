"""Anchors: each seal's hash kept where whoever rewrites the ledger database cannot also reach,
so that rewriting the audit log and every seal consistently is still caught.

Two places: the `audit_seals` asset's materialization metadata in Dagster's storage (the instance
database, or any instance an auditor points DAGSTER_HOME at; defs/audit/dagster_anchors.py), and,
when LEDGER_AUDIT_ANCHOR_FILE is set, an append-only file of JSON lines (this module; put it on
storage the database's administrators cannot write: another host, a WORM bucket mount).
"""

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass

from ..platform import settings
from ..platform.errors import LedgerError
from .seals import Seal


@dataclass(frozen=True)
class Anchor:
    seal_no: int
    hash: str
    row_count: int
    source: str  # 'dagster' or the file's path


def record(seals: Iterable[Seal]) -> list[dict]:
    """What an anchor keeps of each seal (the materialization's `seals` metadata, a file line)."""
    return [{"seal_no": s.seal_no, "hash": s.hash, "row_count": s.row_count, "to_txid": s.to_txid,
             "sealed_at": s.sealed_at.isoformat()} for s in seals]


def append_to_file(seals: list[Seal]) -> None:
    path = settings.audit_anchor_file()
    if path is None or not seals:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as file:
        for line in record(seals):
            file.write(json.dumps(line) + "\n")
        file.flush()
        os.fsync(file.fileno())


def from_file() -> list[Anchor]:
    path = settings.audit_anchor_file()
    if path is None or not path.exists():
        return []
    anchors = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            anchors.append(Anchor(int(item["seal_no"]), str(item["hash"]), int(item["row_count"]), str(path)))
        except (ValueError, KeyError, TypeError):
            raise LedgerError(f"{path}:{number} is not an anchor line: {line[:80]!r}") from None
    return anchors
