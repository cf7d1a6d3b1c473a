"""The SLA clock on the server: due times on tickets, pauses, and breach events.

Due times are written in the same update as the change that moves them (so one change-log
entry carries both) and are plain ticket columns, so they flow through the change feed.
- create: first_reply_due and resolution_due from the policy for (priority, customer tier);
- an agent's public reply: first_reply_due and next_reply_due clear;
- a customer message after the first reply: next_reply_due starts;
- leaving new/open (pending, on-hold, solved, closed) stops the clock: sla_paused_at is set;
  returning pushes every running due time out by the business time spent paused;
- a priority change re-derives first-reply and resolution targets from created_at.
The periodic breach check appends one system-event message per (ticket, target, due time).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select

from agentcli.domain.business_hours import add_business_seconds, business_seconds_between
from agentcli.domain.clock import now_epoch
from agentcli.domain.sla_policy import SlaConfig
from agentcli.domain.vocabulary import AuthorKind, Channel, MessageKind, Status
from agentcli.server.audit import SLA_CLIENT, SYSTEM, record_event
from agentcli.server.db import read_tx, write_tx
from agentcli.server.records import append_message, get_ticket, message_values
from agentcli.server.schema import customers, sla_breaches, tickets
from agentcli.server.sla_file import load_config as load_config  # re-exported for callers
from agentcli.server.wire import iso

DUE_COLUMNS = {
    "first_reply": "first_reply_due",
    "next_reply": "next_reply_due",
    "resolution": "resolution_due",
}
_LABELS = {"first_reply": "first reply", "next_reply": "next reply", "resolution": "resolution"}


def customer_tier(conn: Connection, customer_id: int) -> str:
    tier = conn.execute(
        select(customers.c.tier).where(customers.c.id == customer_id)
    ).scalar_one_or_none()
    return tier or "regular"


def on_create(config: SlaConfig, priority: str, tier: str, now: int) -> dict[str, Any]:
    targets = config.targets(priority, tier)
    return {
        "first_reply_due": _due(config, now, targets.first_reply),
        "resolution_due": _due(config, now, targets.resolution),
        "next_reply_due": None,
        "sla_paused_at": None,
        "sla_paused_seconds": 0,
    }


def _due(config: SlaConfig, start: int, seconds: int | None) -> int | None:
    return None if seconds is None else add_business_seconds(config.calendar, start, seconds)


def on_change(
    config: SlaConfig,
    conn: Connection,
    ticket: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    agent_replied: bool = False,
    customer_wrote: bool = False,
    now: int | None = None,
) -> dict[str, Any]:
    """The SLA columns to write alongside `changes` to `ticket` (its state before them)."""
    now = now or now_epoch()
    out: dict[str, Any] = {}
    state = {name: ticket[name] for name in (*DUE_COLUMNS.values(), "sla_paused_at")}
    was_running = Status(ticket["status"]).is_active
    running = Status(changes.get("status", ticket["status"])).is_active
    paused_at = state["sla_paused_at"]
    if was_running and not running:
        out["sla_paused_at"] = now
    elif running and paused_at is not None:
        # Resume: each target keeps the business time it had left when the clock stopped.
        for column in DUE_COLUMNS.values():
            due = state[column]
            if due is not None and due > paused_at:
                left = business_seconds_between(config.calendar, paused_at, due)
                out[column] = add_business_seconds(config.calendar, now, left)
        paused = business_seconds_between(config.calendar, paused_at, now)
        out["sla_paused_at"] = None
        out["sla_paused_seconds"] = (ticket["sla_paused_seconds"] or 0) + paused
    new_priority = changes.get("priority", ticket["priority"])
    if new_priority != ticket["priority"]:
        targets = config.targets(new_priority, customer_tier(conn, ticket["requester_id"]))
        # Paused business time is added back, which is what resuming would have done.
        extra = (out.get("sla_paused_seconds") or ticket["sla_paused_seconds"]) or 0
        for name, column in (("first_reply", "first_reply_due"), ("resolution", "resolution_due")):
            seconds = getattr(targets, name)
            if state[column] is not None and seconds is not None:
                out[column] = add_business_seconds(
                    config.calendar, ticket["created_at"], seconds + extra
                )
    if agent_replied:
        out["first_reply_due"] = None
        out["next_reply_due"] = None
    elif customer_wrote and state["first_reply_due"] is None and state["next_reply_due"] is None:
        tier = customer_tier(conn, ticket["requester_id"])
        out["next_reply_due"] = _due(config, now, config.targets(new_priority, tier).next_reply)
    return out


def check_breaches(engine: Engine, now: int | None = None) -> int:
    """Append a system event for each newly breached target; return how many.

    Safe with several processes: candidates are re-read inside the serialized write
    transaction and the (ticket, target, due) key is recorded with the event.
    """
    now = now or now_epoch()
    active = [str(s) for s in Status if s.is_active]
    overdue = or_(*(tickets.c[column] < now for column in DUE_COLUMNS.values()))
    with read_tx(engine) as conn:
        candidates = (
            conn.execute(select(tickets.c.id).where(tickets.c.status.in_(active), overdue))
            .scalars()
            .all()
        )
    if not candidates:
        return 0
    appended = 0
    with write_tx(engine) as conn:
        for ticket_id in candidates:
            ticket = get_ticket(conn, ticket_id)
            if ticket is None or ticket["status"] not in active:
                continue
            for target, column in DUE_COLUMNS.items():
                due = ticket[column]
                if due is None or due >= now or _announced(conn, ticket_id, target, due):
                    continue
                conn.execute(
                    sla_breaches.insert().values(
                        ticket_id=ticket_id, target=target, due_at=due, breached_at=now
                    )
                )
                append_message(
                    conn,
                    message_values(
                        ticket_id=ticket_id,
                        kind=MessageKind.EVENT,
                        author_kind=AuthorKind.SYSTEM,
                        author="sla",
                        channel=Channel(ticket["channel"]),
                        body=f"SLA breached: {_LABELS[target]} was due {iso(due)}",
                        created_at=now,
                    ),
                )
                record_event(
                    conn,
                    ticket_id=ticket_id,
                    actor=SYSTEM,
                    client=SLA_CLIENT,
                    field="sla_breach",
                    old=None,
                    new=target,
                    at=now,
                )
                appended += 1
    return appended


def _announced(conn: Connection, ticket_id: int, target: str, due: int) -> bool:
    return (
        conn.execute(
            select(sla_breaches.c.ticket_id).where(
                and_(
                    sla_breaches.c.ticket_id == ticket_id,
                    sla_breaches.c.target == target,
                    sla_breaches.c.due_at == due,
                )
            )
        ).first()
        is not None
    )
