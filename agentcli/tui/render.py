"""Turning ticket data into Rich `Text`: always plain text (never markup), always inert.

Customer text reaches the screen only through `Text(inert(...))` or `Text.append`, which
never parse `[bold]`-style markup; `inert` shows control characters (ESC, BEL, OSC) as
visible symbols so escape sequences cannot act on the terminal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from rich.text import Text

from agentcli.domain.durations import compact
from agentcli.domain.inert import inert
from agentcli.domain.vocabulary import Priority
from agentcli.tui.data import MessageView, TicketDetail
from agentcli.tui.i18n import Translator

TERM_STYLE = "bold underline cyan"
KIND_STYLE = {"public": "bold green", "note": "bold yellow", "event": "dim"}


def local_time(seconds: int | None) -> str:
    """A time in the agent's own timezone (the machine's), to the minute."""
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds).astimezone().strftime("%Y-%m-%d %H:%M")


def clock_text(tr: Translator, due: int | None, now: int) -> Text:
    if due is None:
        return Text(tr("ticket.sla.none"), style="dim")
    left = due - now
    if left < 0:
        return Text(tr("ticket.sla.overdue", time=compact(left)), style="bold red")
    return Text(
        tr("ticket.sla.left", time=compact(left)), style="yellow" if left < 3600 else "green"
    )


def header_text(tr: Translator, detail: TicketDetail, now: int) -> Text:
    t = detail.ticket
    out = Text()
    out.append(f"#{t['id']} ", style="bold")
    out.append(inert(" ".join(t["subject"].split())), style="bold")
    out.append("\n")
    rank = t.get("priority")
    priority = Priority.from_rank(rank).value if isinstance(rank, int) else str(rank)
    assignee = t.get("assignee") or tr("ticket.unassigned")
    out.append(f"{tr('ticket.status')}: {t['status']}  {tr('ticket.priority')}: {priority}  ")
    out.append(f"{tr('ticket.assignee')}: ")
    out.append(inert(assignee))
    out.append(f"  {t['channel']}  {t['queue']}")
    if detail.tags:
        out.append(f"  {tr('ticket.tags')}: ")
        out.append(inert(", ".join(detail.tags)), style="magenta")
    if t.get("pending"):
        out.append(f"  [{tr('ticket.pending')}]", style="cyan")
    out.append("\n")
    customer = detail.customer
    out.append(f"{tr('ticket.customer')}: ", style="bold")
    if customer:
        out.append(inert(customer.get("name") or ""))
        out.append(f"  ({tr('ticket.tier')}: {customer.get('tier')}, ")
        out.append(f"{tr('ticket.language')}: {customer.get('locale')})")
        if customer.get("email"):
            out.append("  " + inert(customer["email"]), style="dim")
    out.append("\n")
    out.append_text(order_text(tr, detail.order))
    out.append("\n")
    out.append(f"{tr('ticket.case')}: ", style="bold")
    if t.get("case_type"):
        out.append(f"{t['case_type']} → {t.get('case_state') or '?'}", style="blue")
    else:
        out.append(tr("ticket.no_case"), style="dim")
    out.append(f"   {tr('ticket.sla')}: ", style="bold")
    for key, column in (
        ("ticket.sla.first", "first_reply_due"),
        ("ticket.sla.next", "next_reply_due"),
        ("ticket.sla.resolution", "resolution_due"),
    ):
        out.append(f"{tr(key)} ")
        out.append_text(clock_text(tr, t.get(column), now))
        out.append("  ")
    return out


def order_text(tr: Translator, order: dict[str, Any] | None) -> Text:
    out = Text()
    out.append(f"{tr('ticket.order')}: ", style="bold")
    if not order:
        out.append(tr("ticket.no_order"), style="dim")
        return out
    out.append(inert(order.get("number") or ""))
    out.append(f"  {order.get('total')} {order.get('currency')}  ")
    try:
        items = json.loads(order.get("items") or "[]")
    except ValueError:
        items = []
    names = [
        f"{item.get('title')} ×{item.get('quantity', 1)}"
        for item in items
        if isinstance(item, dict)
    ]
    if names:
        out.append(f"{tr('ticket.items')}: ")
        out.append(inert("; ".join(names)))
    if order.get("tracking_number"):
        out.append(f"  {tr('ticket.tracking')}: ")
        out.append(inert(f"{order.get('carrier') or ''} {order['tracking_number']}".strip()))
    return out


def message_text(
    tr: Translator, message: MessageView, spans: Iterable[tuple[int, int]] = ()
) -> Text:
    """One message of the thread: a styled header line, then the body as inert plain text,
    with glossary `spans` (start, end offsets into the body) highlighted."""
    out = Text()
    kind = message.kind
    label = {"note": tr("ticket.note"), "event": tr("ticket.event")}.get(kind, tr("ticket.reply"))
    header_style = KIND_STYLE.get(kind, "bold")
    if message.author_kind == "customer":
        header_style = "bold magenta"
    out.append(inert(message.author), style=header_style)
    out.append(f"  {label}  {local_time(message.created_at)}", style="dim")
    if message.pending:
        out.append(f"  [{tr('ticket.pending')}]", style="bold cyan")
    out.append("\n")
    body = Text(inert(message.body), style="italic" if kind == "note" else "")
    for start, end in spans:
        body.stylize(TERM_STYLE, start, end)
    out.append_text(body)
    if message.length > len(message.body):
        out.append(
            "\n" + tr("ticket.truncated", count=message.length - len(message.body)), style="dim"
        )
    return out
