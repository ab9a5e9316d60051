"""`ledger-pipeline statements ...`: map bank accounts to ledger accounts, import statement files,
match and unmatch by hand (`statements reconcile` is the CLI's own: it is a reconciliation).

Exit codes: 0 imported (or already imported, said so), 2 refused, with one line naming the line
or XML element of the file and the reason."""

import json
import uuid
from dataclasses import asdict
from pathlib import Path

from ..platform.db import LedgerDatabase
from .formats import FORMATS
from .importer import ALREADY_IMPORTED, ImportResult, import_file
from .manual_matches import match_manual, unmatch
from .mapping import map_account
from .model import StatementError

REFUSED = 2


def add_statement_commands(commands):
    """Adds `statements map`, `import`, `match-manual` and `unmatch` to the top-level subparsers;
    returns the statements subparsers."""
    statements = commands.add_parser(
        "statements", help="bank statements: map bank accounts, import files, reconcile the ledger with them")
    actions = statements.add_subparsers(dest="action", required=True)
    mapping = actions.add_parser("map", help="map a bank account identifier to the ledger account that mirrors it")
    mapping.add_argument("identifier", help="as the statement files give it: an IBAN, MT940 :25:, STRIPE")
    mapping.add_argument("account_code", help="a house asset account, e.g. CASH-USD; its currency is the mapping's")
    mapping.set_defaults(run=cmd_map)
    load = actions.add_parser(
        "import", help="import every statement of a file in one transaction; exit 0 imported, 2 refused")
    load.add_argument("file", type=Path)
    load.add_argument("--format", dest="fmt", metavar="FORMAT",
                      help=f"{' | '.join(FORMATS)} (PROFILE: stripe, or a TOML column map); default: recognised")
    load.add_argument("--account", help="the account identifier of a CSV file whose rows name none (Stripe: STRIPE)")
    load.add_argument("--json", action="store_true", help="print JSON for machines")
    load.set_defaults(run=cmd_import)
    manual = actions.add_parser("match-manual", help="match a statement line with ledger entries by hand (audited)")
    manual.add_argument("line_id", type=uuid.UUID)
    manual.add_argument("entry_ids", type=uuid.UUID, nargs="+", metavar="entry_id")
    manual.add_argument("--reason", required=True)
    manual.set_defaults(run=cmd_match_manual)
    undo = actions.add_parser("unmatch", help="undo a match (audited); its line and entries are open again")
    undo.add_argument("match_id", type=uuid.UUID)
    undo.add_argument("--reason", required=True)
    undo.set_defaults(run=cmd_unmatch)
    return actions


def cmd_map(args, db: LedgerDatabase) -> int:
    mapping = map_account(db, args.identifier, args.account_code)
    if mapping.previous_account_code is None:
        print(f"mapped {mapping.identifier} ({mapping.currency}) to {mapping.account_code}")
    elif mapping.changed:
        print(f"remapped {mapping.identifier} ({mapping.currency}) from {mapping.previous_account_code}"
              f" to {mapping.account_code}")
    else:
        print(f"{mapping.identifier} ({mapping.currency}) is already mapped to {mapping.account_code}")
    return 0


def cmd_import(args, db: LedgerDatabase) -> int:
    try:
        result = import_file(db, args.file, args.fmt, args.account)
    except StatementError as exc:
        if not args.json:
            raise
        print(json.dumps({"status": "refused", "file": str(args.file), "reason": str(exc)}, indent=2))
        return REFUSED
    if args.json:
        print(json.dumps(asdict(result), default=str, indent=2))
    else:
        print(describe(result))
    return 0


def cmd_match_manual(args, db: LedgerDatabase) -> int:
    made = match_manual(db, args.line_id, args.entry_ids, args.reason)
    print(f"match {made.id}: line {args.line_id} with {len(args.entry_ids)} entries, amount difference"
          f" {made.amount_difference}, {made.days_difference} days apart")
    return 0


def cmd_unmatch(args, db: LedgerDatabase) -> int:
    unmatch(db, args.match_id, args.reason)
    print(f"match {args.match_id} undone")
    return 0


def describe(result: ImportResult) -> str:
    if result.status == ALREADY_IMPORTED:
        return (f"already imported: {result.file} (sha256 {result.sha256[:12]}) was imported on"
                f" {result.imported_at:%Y-%m-%d %H:%M %Z} as {result.source_format}: {result.statement_count}"
                f" statements, {result.line_count} lines; nothing imported now")
    text = [f"imported {result.file} ({result.source_format}, sha256 {result.sha256[:12]}):"
            f" {result.statement_count} statements, {result.line_count} lines"]
    for st in result.statements:
        derived = " (derived: the file states no balances)" if st.balances_derived else ""
        text.append(f"  {st.account_identifier} {st.bank_statement_id} {st.currency}: opening {st.opening_balance}"
                    f" ({st.opening_date}), closing {st.closing_balance} ({st.closing_date}), {st.lines} lines{derived}")
    text += [f"  skipped {reason}" for reason in result.skipped]
    return "\n".join(text)
