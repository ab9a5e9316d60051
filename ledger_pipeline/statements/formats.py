"""Which reader a file needs: named (camt053, mt940, csv:PROFILE) or recognised from its first bytes."""

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Optional

from . import camt053, stripe, swift_mt940
from .csv_statements import ColumnMap, read_mapped
from .model import Line, Skipped, Statement, StatementError

FORMATS = ("camt053", "mt940", "csv:PROFILE")
PROFILES = {"stripe": stripe.read}  # built in; any other PROFILE is the path of a TOML column map
SNIFF_BYTES = 8192

Reader = Callable[[Path], Iterator[Statement | Line | Skipped]]


def reader(path: Path, fmt: Optional[str] = None, account: Optional[str] = None) -> tuple[str, Reader]:
    """The format's name as recorded (camt053, mt940, csv:stripe, csv:<map name>) and its reader.
    ``account`` names the account of a CSV file whose rows do not."""
    fmt = fmt or detect(path)
    if fmt == "camt053":
        return fmt, camt053.read
    if fmt == "mt940":
        return fmt, swift_mt940.read
    if fmt.startswith("csv:") and fmt[4:]:
        profile = fmt[4:]
        if profile in PROFILES:
            return fmt, lambda p: PROFILES[profile](p, account)
        column_map = ColumnMap.load(Path(profile))
        return f"csv:{column_map.name}", lambda p: read_mapped(p, column_map, account)
    raise StatementError("--format", f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}"
                                     f" (built-in profiles: {', '.join(PROFILES)}; or csv:PATH to a column map)")


def detect(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise StatementError("the file", f"cannot be read: {exc.strerror}") from None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff\x01\x03 \t\r\n")
    if text.startswith("<"):
        return "camt053"
    if text.startswith((":20:", "{1:", ":940:")):
        return "mt940"
    first_line = next(iter(text.splitlines()), "")
    header = {name.strip() for name in next(csv.reader(io.StringIO(first_line)), [])}
    if stripe.HEADER <= header:
        return "csv:stripe"
    raise StatementError("line 1", "cannot tell the file's format (not XML, MT940 or a Stripe export):"
                                   " name it with --format camt053, mt940 or csv:PROFILE")
