"""Inbox columns laid out by terminal cell width, so Chinese (two cells a character) lines up.

Every cell is cut or padded with `rich.cells.set_cell_size`, which never splits a wide
character; customer text goes through `inert()` and becomes a plain Segment (never markup).
Markers are ASCII on purpose: glyphs such as ▲ or ● are "ambiguous width" and take two cells
in some CJK terminal setups, which would break the alignment this module exists for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.style import Style

from agentcli.domain.durations import compact
from agentcli.domain.inert import inert
from agentcli.store.inbox import InboxRow

Translate = Callable[..., str]


@dataclass(frozen=True, slots=True)
class Column:
    name: str  # i18n key suffix: col.<name>
    width: int  # cells; 0 = takes the remaining width


COLUMNS: tuple[Column, ...] = (
    Column("mark", 2),
    Column("priority", 4),
    Column("channel", 5),
    Column("sla", 8),
    Column("customer", 14),
    Column("subject", 0),
    Column("case", 14),
    Column("assignee", 10),
    Column("updated", 7),
)
MIN_SUBJECT = 12
GAP = 1

PRIORITY_MARK = {"urgent": "!!!", "high": "!!", "normal": "!", "low": "."}
CHANNEL_SHORT = {
    "email": "mail",
    "chat": "chat",
    "phone": "tel",
    "social": "soc",
    "marketplace": "mkt",
    "web": "web",
}
CASE_SHORT = {
    "return-and-refund": "return",
    "refund-only": "refund",
    "exchange": "exch",
    "reship": "reship",
    "repair": "repair",
    "price-protection": "price",
    "complaint": "compl",
}

_DIM = Style(dim=True)
_PLAIN = Style()
_STYLES = {
    "urgent": Style(color="red", bold=True),
    "high": Style(color="yellow"),
    "normal": _PLAIN,
    "low": _DIM,
    "overdue": Style(color="red", bold=True),
    "soon": Style(color="yellow"),
    "running": Style(color="green"),
    "mark": Style(color="magenta", bold=True),
    "pending": Style(color="cyan"),
    "case": Style(color="blue"),
    "header": Style(bold=True, underline=True),
}
SOON = 3600  # an SLA due within the hour is coloured as a warning


def widths(total: int) -> list[int]:
    """Cell widths of every column for a list `total` cells wide (subject takes the rest)."""
    fixed = sum(c.width for c in COLUMNS) + GAP * (len(COLUMNS) - 1)
    subject = max(MIN_SUBJECT, total - fixed)
    return [c.width or subject for c in COLUMNS]


def one_line(text: str) -> str:
    """Customer text for a single cell: inert, whitespace runs (newlines too) as one space."""
    return " ".join(inert(text).split())


def sla_cell(due: int | None, now: int) -> tuple[str, Style]:
    if due is None:
        return "-", _DIM
    left = due - now
    if left < 0:
        return "-" + compact(left), _STYLES["overdue"]
    return compact(left), _STYLES["soon" if left < SOON else "running"]


def age_cell(updated: int, now: int) -> str:
    return compact(max(0, now - updated)).split()[0]


def row_segments(row: InboxRow, cells: list[int], now: int, marked: bool) -> list[Segment]:
    """One inbox row as segments, each column exactly its width in cells."""
    sla_text, sla_style = sla_cell(row.sla_due, now)
    case = ""
    if row.case_type:
        case = CASE_SHORT.get(row.case_type, row.case_type)
        if row.case_state:
            case += ":" + row.case_state
    mark = ("*" if marked else " ") + ("~" if row.pending else " ")
    values: list[tuple[str, Style]] = [
        (mark, _STYLES["mark"] if marked else _STYLES["pending"]),
        (PRIORITY_MARK.get(row.priority, row.priority), _STYLES.get(row.priority, _PLAIN)),
        (CHANNEL_SHORT.get(row.channel, row.channel), _DIM),
        (sla_text, sla_style),
        (one_line(row.customer or ""), _PLAIN),
        (one_line(row.subject), _PLAIN),
        (case, _STYLES["case"]),
        (one_line(row.assignee or "-"), _DIM if not row.assignee else _PLAIN),
        (age_cell(row.updated_at, now), _DIM),
    ]
    return _join(values, cells)


def header_segments(cells: list[int], tr: Translate) -> list[Segment]:
    style = _STYLES["header"]
    values = [("", style)] + [(tr(f"col.{c.name}"), style) for c in COLUMNS[1:]]
    return _join(values, cells)


def _join(values: list[tuple[str, Style]], cells: list[int]) -> list[Segment]:
    segments: list[Segment] = []
    gap = Segment(" " * GAP)
    for i, ((text, style), width) in enumerate(zip(values, cells, strict=True)):
        if i:
            segments.append(gap)
        segments.append(Segment(set_cell_size(text, width), style))
    return segments
