"""The local effect of a mutation on the store: what the console shows before the server answers.

Shared by `outbox.enqueue` (first application) and `overlay.rebuild` (re-application on top of
a newer server state), so both paths agree on what a pending change looks like.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from agentcli.domain.cases import CaseState, CaseType, InvalidTransition, check_transition
from agentcli.domain.mutations import Mutation, MutationType
from agentcli.domain.sla import running_due
from agentcli.domain.text import indexed_source
from agentcli.domain.vocabulary import AuthorKind, MessageKind, Priority, Status
from agentcli.domain.wire import parse_time
from agentcli.store.search import index_message

MESSAGE_TYPES = frozenset({MutationType.REPLY, MutationType.NOTE})


def local_effect(
    conn: sqlite3.Connection,
    ticket: dict[str, Any],
    mutation: Mutation,
    *,
    author: str,
    seq: int,
    now: int,
    replay: bool = False,
) -> dict[str, Any]:
    """Apply the mutation's effect to rows other than the ticket; return ticket column changes.

    `replay` re-applies a queued mutation over a fresh server state: its local message (if
    any) already exists, so only the ticket columns are computed.
    """
    payload = mutation.payload
    match mutation.type:
        case MutationType.REPLY | MutationType.NOTE:
            if not replay:
                _add_local_message(conn, ticket, mutation, author=author, seq=seq, now=now)
            return {}
        case MutationType.SET_STATUS:
            status = str(Status(payload["status"]))
            return {"status": status, "sla_due": _sla_due(ticket, status)}
        case MutationType.SET_PRIORITY:
            return {"priority": Priority(payload["priority"]).rank}
        case MutationType.ASSIGN:
            return {"assignee": payload["assignee"] or ""}
        case MutationType.SET_QUEUE:
            return {"queue": str(payload["queue"])}
        case MutationType.TAG:
            return {"tags": _retag(conn, ticket, payload.get("add", []), payload.get("remove", []))}
        case MutationType.SET_CASE:
            return _advance_case(ticket, payload)
        case MutationType.SNOOZE:
            until = payload.get("until")
            return {"snoozed_until": None if until is None else parse_time(until)}
    raise ValueError(f"unknown mutation type {mutation.type}")


def _sla_due(ticket: dict[str, Any], status: str) -> int:
    return running_due(
        status, ticket["first_reply_due"], ticket["next_reply_due"], ticket["resolution_due"]
    )


def _add_local_message(
    conn: sqlite3.Connection,
    ticket: dict[str, Any],
    mutation: Mutation,
    *,
    author: str,
    seq: int,
    now: int,
) -> None:
    body = mutation.payload["body"]
    if not isinstance(body, str) or not body.strip():
        raise ValueError("the message body is empty")
    # Negative ids mark local, unsent messages; the server's copy replaces them on sync.
    message_id = -seq
    kind = MessageKind.PUBLIC if mutation.type is MutationType.REPLY else MessageKind.NOTE
    conn.execute(
        "INSERT INTO messages(id, ticket_id, kind, author_kind, author, channel, body,"
        " created_at, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
        (message_id, ticket["id"], kind, AuthorKind.AGENT, author, ticket["channel"], body, now),
    )
    index_message(conn, message_id, indexed_source(body))


def _retag(
    conn: sqlite3.Connection, ticket: dict[str, Any], add: list[str], remove: list[str]
) -> str:
    # A tag both added and removed ends up removed: removal is the explicit, safer intent.
    tags = [tag for tag in json.loads(ticket["tags"]) if tag not in remove]
    tags += [tag for tag in dict.fromkeys(add) if tag not in tags and tag not in remove]
    conn.executemany(
        "DELETE FROM ticket_tags WHERE tag = ? AND ticket_id = ?",
        [(tag, ticket["id"]) for tag in remove],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO ticket_tags(tag, ticket_id) VALUES (?, ?)",
        [(tag, ticket["id"]) for tag in tags],
    )
    return json.dumps(tags, ensure_ascii=False)


def _advance_case(ticket: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """A new case starts as requested; every step must be allowed by the state machine."""
    case_type = CaseType(payload.get("type") or ticket["case_type"])
    target = CaseState(payload["state"])
    current = CaseState(ticket["case_state"]) if ticket["case_state"] else CaseState.REQUESTED
    if ticket["case_type"] and case_type != ticket["case_type"]:
        current = CaseState.REQUESTED  # a changed type reopens the request
    if target != current:
        try:
            check_transition(case_type, current, target)
        except InvalidTransition as error:
            raise ValueError(str(error)) from None
    return {"case_type": str(case_type), "case_state": str(target)}
