"""Printing command results as JSON, CSV or a terminal table.

JSON goes to stdout untouched (valid even for hostile text: json escapes control characters);
tables go through Rich with every cell as plain `Text`, so customer text is never markup, and
with control characters made visible, so it is never an escape sequence.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agentcli.domain.inert import inert

FIXED_MAX = 24  # cells: wider fixed columns are cut so the flexible one keeps some room
FLEX_MIN = 12


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def print_jsonl(values: Iterable[Any]) -> None:
    write = sys.stdout.write
    for value in values:
        write(json.dumps(value, ensure_ascii=False))
        write("\n")


def print_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_flat(row.get(name)) for name in columns])


def print_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], *, flex: str | None = None
) -> None:
    """A table aligned by cell width (Rich measures CJK as two cells), one line per row.

    Every column but `flex` is as wide as its widest cell (at most FIXED_MAX cells); `flex`
    (say, the subject) gets the rest of the terminal's width and is cut with an ellipsis.
    Piped output is as wide as it needs: `flex` is whole and no column is squeezed to fit 80.
    """
    console = Console(soft_wrap=False)
    cells = [[Text(inert(_flat(row.get(name)))) for name in columns] for row in rows]
    widths = [
        min(max([cell_len(name), *(row[index].cell_len for row in cells)]), FIXED_MAX)
        for index, name in enumerate(columns)
    ]
    if flex in columns:
        index = columns.index(flex)
        if console.is_terminal:
            others = sum(widths) - widths[index] + 3 * (len(columns) - 1)  # " │ " between
            widths[index] = max(console.width - others, FLEX_MIN)
        else:  # piped: the whole text
            widths[index] = max([cell_len(flex), *(row[index].cell_len for row in cells)])
    needed = sum(widths) + 3 * (len(columns) - 1)
    if not console.is_terminal and needed > console.width:
        # Piped to a file or another program: nothing to fit, so cut nothing.
        console = Console(soft_wrap=False, width=needed)
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name, width in zip(columns, widths, strict=True):
        table.add_column(name, overflow="ellipsis", no_wrap=True, width=width)
    for row in cells:
        table.add_row(*row)
    console.print(table)


def fail(message: str) -> None:
    """Exit non-zero with `message` on stderr (stdout stays clean for --json consumers)."""
    click.echo(f"error: {inert(message)}", err=True)
    raise SystemExit(1)


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)
