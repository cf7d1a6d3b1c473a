"""`agentcli report`: support metrics over a period, grouped, as a table, CSV or JSON.

Runs on the local store only. Times are business seconds in the SLA policy's calendar
(docs/metrics.md); the table shows them as durations and rates as percentages, CSV and JSON
keep raw numbers (seconds, fractions 0..1) for spreadsheets and scripts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agentcli.cli.context import CliContext
from agentcli.cli.output import fail, print_csv, print_json
from agentcli.domain.clock import from_epoch, now_epoch
from agentcli.domain.durations import compact
from agentcli.domain.inert import inert
from agentcli.domain.metrics import Summary, parse_period
from agentcli.domain.sla_policy import TARGETS, PolicyError
from agentcli.store.metrics import GROUPS, Report, report

ALL = "(all)"
# Say so on stderr when a report computes at least this many tickets (over a second's work).
ANNOUNCE_MIN_TICKETS = 20_000
# Raw columns (CSV / JSON rows), after the group column.
COLUMNS = (
    "tickets",
    "first_reply_median",
    "first_reply_p90",
    "next_reply_median",
    "next_reply_p90",
    "resolution_median",
    "resolution_p90",
    *(f"sla_{target}" for target in TARGETS),
    "solved",
    "one_touch_rate",
    "reopen_rate",
    "csat",
    "csat_responses",
    "backlog",
)
# The table leaves out a few columns (CSV and JSON have all) and uses short headers.
TABLE_COLUMNS = tuple(c for c in COLUMNS if c not in ("next_reply_p90", "solved", "csat_responses"))
HEADERS = {
    "tickets": "tickets",
    "first_reply_median": "FRT med",
    "first_reply_p90": "FRT p90",
    "next_reply_median": "NRT med",
    "next_reply_p90": "NRT p90",
    "resolution_median": "FRes med",
    "resolution_p90": "FRes p90",
    "sla_first_reply": "SLA 1st",
    "sla_next_reply": "SLA next",
    "sla_resolution": "SLA res",
    "solved": "solved",
    "one_touch_rate": "1-touch",
    "reopen_rate": "reopen",
    "csat": "CSAT",
    "csat_responses": "rated",
    "backlog": "backlog",
}
_DURATIONS = {name for name in COLUMNS if name.endswith(("_median", "_p90"))}
_RATES = {name for name in COLUMNS if name.startswith("sla_") or name.endswith("_rate")} | {"csat"}


class PeriodType(click.ParamType):
    name = "period"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_period(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


def _raw(summary: Summary) -> dict[str, Any]:
    return {
        "tickets": summary.tickets,
        "first_reply_median": summary.first_reply.median,
        "first_reply_p90": summary.first_reply.p90,
        "next_reply_median": summary.next_reply.median,
        "next_reply_p90": summary.next_reply.p90,
        "resolution_median": summary.resolution.median,
        "resolution_p90": summary.resolution.p90,
        **{f"sla_{target}": summary.attainment[target] for target in TARGETS},
        "solved": summary.solved,
        "one_touch_rate": summary.one_touch_rate,
        "reopen_rate": summary.reopen_rate,
        "csat": summary.csat,
        "csat_responses": summary.csat_responses,
        "backlog": summary.backlog,
    }


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "—"
    if name in _DURATIONS:
        return compact(round(value))
    if name in _RATES:
        return f"{value:.1%}"
    return f"{value:,}"


def _rows(result: Report) -> list[tuple[str, dict[str, Any]]]:
    return [(row.key, _raw(row.summary)) for row in result.rows] + [(ALL, _raw(result.total))]


@click.command()
@click.option(
    "--period",
    type=PeriodType(),
    default="7d",
    show_default=True,
    help="How far back from now: tickets created in the last 24h, 7d, 4w ...",
)
@click.option(
    "--by",
    type=click.Choice(list(GROUPS)),
    default="agent",
    show_default=True,
    help="Group tickets by this.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@click.option(
    "--sla-policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="SLA policy TOML (calendar and targets); default: the one `agentcli serve` ships.",
)
@click.option(
    "--now",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="End of the period (default: now; naive = UTC).",
)
@click.pass_obj
def report_command(
    obj: CliContext,
    period: int,
    by: str,
    fmt: str,
    sla_policy: Path | None,
    now: datetime | None,
) -> None:
    """First/next reply and resolution times, SLA attainment, one-touch, reopens, CSAT and
    backlog for tickets created in the period, by agent, queue, channel, language or case.

    Times are business hours of the SLA policy's calendar; see docs/metrics.md.
    """
    from agentcli.server.sla_file import load_config

    try:
        config = load_config(sla_policy)
    except (PolicyError, OSError) as error:
        fail(str(error))
    end = now_epoch() if now is None else int(now.replace(tzinfo=now.tzinfo or UTC).timestamp())
    result = report(
        obj.db, config, by=by, start=end - period, end=end + 1, now=end, on_compute=_announce
    )
    rows = _rows(result)
    if fmt == "json":
        print_json(
            {
                "by": by,
                "start": _iso(result.start),
                "end": _iso(end),
                "units": {"times": "business seconds", "rates": "fraction of 1"},
                "rows": [{by: key, **values} for key, values in rows[:-1]],
                "total": rows[-1][1],
            }
        )
    elif fmt == "csv":
        print_csv([{by: key, **values} for key, values in rows], [by, *COLUMNS])
    else:
        _print_table(by, rows)


def _announce(tickets: int) -> None:
    """Say why this report takes longer: the first one over a period computes each ticket."""
    if tickets >= ANNOUNCE_MIN_TICKETS:
        click.echo(
            f"computing the figures of {tickets:,} tickets; they are kept, so the next report"
            " recomputes only what changed",
            err=True,
        )


def _print_table(by: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    """Columns as wide as their widest cell (Rich measures CJK as two cells); never cut: a
    table wider than the terminal is printed whole rather than with lost digits."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    table.add_column(by, no_wrap=True)
    for name in TABLE_COLUMNS:
        table.add_column(HEADERS[name], justify="right", no_wrap=True)
    for index, (key, values) in enumerate(rows):
        total = index == len(rows) - 1
        table.add_row(
            Text(inert(key), style="bold" if total else ""),
            *(Text(_cell(name, values[name])) for name in TABLE_COLUMNS),
            end_section=index == len(rows) - 2,
        )
    natural = Console(width=10_000).measure(table).maximum
    width = max(Console().width, natural)
    Console(soft_wrap=False, width=width).print(table)


def _iso(seconds: int) -> str | None:
    moment = from_epoch(seconds)
    return None if moment is None else moment.isoformat()
