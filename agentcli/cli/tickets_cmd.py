"""Reading commands: `tickets` (inbox rows for a query), `show` (one thread), `export`."""

from __future__ import annotations

import click
from rich.console import Console
from rich.text import Text

from agentcli.cli.context import CliContext
from agentcli.cli.output import fail, print_csv, print_json, print_jsonl, print_table
from agentcli.domain.clock import now_epoch
from agentcli.domain.durations import countdown
from agentcli.domain.inert import inert
from agentcli.domain.query import QuerySyntaxError, parse_query
from agentcli.store.inbox import inbox_page
from agentcli.store.records import iso
from agentcli.store.tickets import export_tickets, get_ticket

LIST_COLUMNS = (
    "id",
    "priority",
    "status",
    "channel",
    "queue",
    "assignee",
    "customer",
    "subject",
    "case_type",
    "sla_due",
    "updated_at",
)
TABLE_COLUMNS = (
    "id",
    "priority",
    "status",
    "channel",
    "assignee",
    "customer",
    "subject",
    "case_type",
    "sla",
    "updated",
)
TIME_FIELDS = ("sla_due", "updated_at", "created_at", "snoozed_until")
PAGE = 500


@click.command()
@click.argument("query", required=False, default="")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of ticket objects.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV with a header row.")
@click.option("--ids", "ids_only", is_flag=True, help="Print only ticket ids, one a line.")
@click.option("--me", envvar="AGENTCLI_AGENT", default="", help="Agent login that `me` means.")
@click.pass_obj
def tickets(
    obj: CliContext, query: str, limit: int, as_json: bool, as_csv: bool, ids_only: bool, me: str
) -> None:
    """Inbox rows matching QUERY (the filter-bar language), e.g. 'status:open tag:破损 sort:sla'."""
    try:
        parsed = parse_query(query)
    except QuerySyntaxError as error:
        fail(f"query: {error}")
    rows: list[dict] = []
    after = None
    while len(rows) < limit:
        page = inbox_page(
            obj.db, parsed, me=me or None, limit=min(PAGE, limit - len(rows)), after=after
        )
        rows.extend(row.as_dict() for row in page.rows)
        if page.next_key is None:
            break
        after = page.next_key
    if ids_only:
        click.echo("\n".join(str(row["id"]) for row in rows))
    elif as_json:
        print_json([_listed(row) for row in rows])
    elif as_csv:
        print_csv([_listed(row) for row in rows], LIST_COLUMNS)
    else:
        print_table(_for_people(rows), TABLE_COLUMNS, flex="subject")


def _listed(row: dict) -> dict:
    """Inbox row for output: times as ISO 8601 UTC like every other JSON object we print."""
    return {**row, **{name: iso(row[name]) for name in TIME_FIELDS}}


def _for_people(rows: list[dict]) -> list[dict]:
    """Rows for the terminal table: SLA as a countdown, updated as a date and time."""
    now = now_epoch()
    return [
        {
            **row,
            "sla": countdown(row["sla_due"], now),
            "updated": (iso(row["updated_at"]) or "")[:16].replace("T", " "),
        }
        for row in rows
    ]


@click.command()
@click.argument("ticket_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the ticket and thread as JSON.")
@click.pass_obj
def show(obj: CliContext, ticket_id: int, as_json: bool) -> None:
    """One ticket with its customer, order and whole thread."""
    ticket = get_ticket(obj.db, ticket_id)
    if ticket is None:
        fail(f"ticket {ticket_id}: not in the local store ({obj.db_path})")
    if as_json:
        print_json(ticket)
        return
    console = Console(soft_wrap=True)
    header = Text(f"#{ticket['id']} ", style="bold")
    header.append(inert(ticket["subject"]), style="bold")
    console.print(header)
    facts = [
        ticket["status"],
        ticket["priority"],
        ticket["channel"],
        ticket["queue"],
        f"assignee: {ticket['assignee'] or '-'}",
    ]
    if ticket["case_type"]:
        facts.append(f"case: {ticket['case_type']} ({ticket['case_state']})")
    console.print(Text(" · ".join(facts), style="dim"))
    if customer := ticket["customer"]:
        console.print(
            Text(f"customer: {inert(customer['name'])} ({customer['tier']}, {customer['locale']})")
        )
    if order := ticket["order"]:
        console.print(
            Text(
                f"order: {order['number']} {order['total']} {order['currency']} "
                f"{order['carrier'] or ''} {order['tracking_number'] or ''}"
            )
        )
    for message in ticket["messages"]:
        label = f"\n— {message['kind']} · {inert(message['author'])} · {message['created_at']}"
        console.print(Text(label + (" · pending" if message["pending"] else ""), style="cyan"))
        console.print(Text(inert(message["body"])))


@click.command()
@click.option(
    "--jsonl",
    "as_jsonl",
    is_flag=True,
    required=True,
    help="One JSON object a line: each ticket with its messages.",
)
@click.pass_obj
def export(obj: CliContext, as_jsonl: bool) -> None:
    """Every ticket with its messages (streams; memory stays flat at any store size)."""
    print_jsonl(export_tickets(obj.db))
