"""`agentcli history ID`: a ticket's audit trail from the local store, newest first."""

from __future__ import annotations

from datetime import datetime

import click

from agentcli.cli.context import CliContext
from agentcli.cli.output import fail, print_json, print_table
from agentcli.store.history import PAGE, Event, ticket_exists, ticket_history
from agentcli.store.records import iso

TABLE_COLUMNS = ("who", "when", "field", "change", "client")


@click.command()
@click.argument("ticket_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of event objects.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.pass_obj
def history(obj: CliContext, ticket_id: int, as_json: bool, limit: int) -> None:
    """Who changed what on ticket TICKET_ID, when, and from which client (newest first)."""
    if not ticket_exists(obj.db, ticket_id):
        fail(f"ticket {ticket_id}: not in the local store ({obj.db_path})")
    events: list[Event] = []
    before = None
    while len(events) < limit:
        page = ticket_history(
            obj.db, ticket_id, limit=min(PAGE, limit - len(events)), before=before
        )
        events += page.events
        if page.next_before is None:
            break
        before = page.next_before
    if as_json:
        print_json([{**event.as_dict(), "at": iso(event.at)} for event in events])
    else:
        print_table([_for_people(event) for event in events], TABLE_COLUMNS, flex="change")


def _for_people(event: Event) -> dict[str, str]:
    return {
        "who": event.actor,
        "when": datetime.fromtimestamp(event.at).strftime("%Y-%m-%d %H:%M"),  # local time
        "field": event.field,
        "change": f"{_shown(event.old)} → {_shown(event.new)}",
        "client": event.client or "",
    }


def _shown(value: str | None) -> str:
    return "–" if value is None else " ".join(value.split())
