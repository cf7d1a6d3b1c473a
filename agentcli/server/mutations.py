"""Settling one pushed mutation: applied, duplicate, conflict or rejected, and the rules every
path shares (checks, versions, audit rows). agentcli.server.push settles whole batches.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, RowMapping, bindparam, select

from agentcli.domain.cases import CaseState, CaseType, InvalidTransition, check_transition
from agentcli.domain.clock import now_epoch
from agentcli.domain.mutations import MutationType, Outcome, macros_problem
from agentcli.domain.vocabulary import AuthorKind, Channel, MessageKind, Priority, Status
from agentcli.server.audit import changed_events, event_values, insert_events, mutation_client
from agentcli.server.changelog import append_change_list
from agentcli.server.moves import (
    WroteSince,
    expectation_problem,
    moved_on,
    wrote_since_reader,
    wrote_while_theirs,
)
from agentcli.server.permissions import mutation_forbidden
from agentcli.server.records import insert_messages, message_values, write_ticket
from agentcli.server.schema import agents
from agentcli.server.wire import to_wire


@dataclass
class Incoming:
    client_id: str
    type: MutationType
    ticket_id: int
    base_version: int | None
    payload: dict[str, Any] = field(default_factory=dict)


class Rejected(Exception):
    """The mutation can never apply as sent (bad payload, invalid transition)."""


class Hooks(Protocol):
    """Server rules around a ticket-changing mutation (agentcli.server.workflow.Workflow).

    `derive` sees the ticket before the change and returns server-derived fields (SLA due
    times) written in the *same* update, so one version and one change-log entry carry both;
    it may read the database but not rely on the mutation's own message being written yet
    (agentcli.server.message_run derives a run's changes before writing its messages).
    `after` runs after the update in the same transaction (queue an outbound email).
    """

    def derive(
        self, conn: Connection, ticket: RowMapping, kind: MutationType, changes: dict[str, Any]
    ) -> dict[str, Any]: ...

    def after(
        self, conn: Connection, row: RowMapping, kind: MutationType, extra: dict[str, Any]
    ) -> None: ...


AfterApply = Hooks  # the name app.py passes it under


_AGENT_ACTIVE = select(agents.c.active).where(agents.c.login == bindparam("login"))


def answer(mutation: Incoming, outcome: Outcome, **fields: Any) -> dict[str, Any]:
    return {"client_id": mutation.client_id, "outcome": str(outcome), **fields}


def settle(
    conn: Connection,
    agent: Mapping[str, Any],
    mutation: Incoming,
    seen: str | None,
    ticket: RowMapping | None,
    after_apply: AfterApply | None,
    user_agent: str | None = None,
) -> tuple[dict[str, Any], str | None, RowMapping | None]:
    """The answer, the JSON to record under the mutation's id (None for a duplicate) and the
    ticket's new state (None when unchanged).

    `seen` is the answer already recorded under the id, if any; `ticket` the ticket's current
    state, locked (None: no such ticket).
    """
    if seen is not None:
        return {**json.loads(seen), "outcome": str(Outcome.DUPLICATE)}, None, None
    result, updated = _decide(conn, agent, mutation, ticket, after_apply, user_agent)
    return result, json.dumps(result, ensure_ascii=False), updated


def _decide(
    conn: Connection,
    agent: Mapping[str, Any],
    mutation: Incoming,
    ticket: RowMapping | None,
    after_apply: AfterApply | None,
    user_agent: str | None = None,
) -> tuple[dict[str, Any], RowMapping | None]:
    """The answer, and the ticket's new state when the mutation applied."""
    refused = precheck(conn, agent, mutation, ticket)
    if refused is not None:
        return refused, None
    assert ticket is not None  # precheck refuses an unknown ticket
    # The mutation's change-log entries, written together after the update (one statement on
    # PostgreSQL) in the order the one-at-a-time path wrote them: message, ticket, events.
    log: Log = []
    try:
        changes, extra = _APPLY[mutation.type](conn, agent, ticket, mutation, log)
    except INVALID as error:
        return answer(mutation, Outcome.REJECTED, reason=f"invalid: {error}"), None
    changes = new_version(conn, ticket, mutation.type, changes, after_apply)
    row = write_ticket(conn, ticket["id"], changes)
    log.append(("ticket", row))
    ticket_entry = len(log) - 1
    events = insert_events(conn, audit_rows(agent, mutation, ticket, row, extra, user_agent))
    log += [("event", event) for event in events]
    seq = append_change_list(conn, log)[ticket_entry]
    if after_apply is not None:
        after_apply.after(conn, row, mutation.type, extra)
    return answer(mutation, Outcome.APPLIED, version=changes["version"], seq=seq, **extra), row


def precheck(
    conn: Connection,
    agent: Mapping[str, Any],
    mutation: Incoming,
    ticket: Mapping[str, Any] | None,
    wrote_since: WroteSince | None = None,
) -> dict[str, Any] | None:
    """The answer when the mutation cannot apply to the ticket as it stands (no such ticket,
    a conflict, not allowed), else None: what every mutation is checked against first.
    `wrote_since` answers a move's check on later agent messages (default: read when asked).
    """
    if ticket is None:
        reason = f"unknown ticket {mutation.ticket_id}"
        return answer(mutation, Outcome.REJECTED, reason=reason)
    problem = expectation_problem(mutation.payload)
    if problem is not None:  # before the expectation is compared in SQL
        return answer(mutation, Outcome.REJECTED, reason=f"invalid: {problem}")
    # Conflict before permission: when the field changed after the version the user saw, the
    # race is the news (an agent whose ticket a supervisor just took must learn "someone else
    # changed it", with the new state, not a bare "forbidden"). Nothing leaks: every agent
    # reads every ticket in the change feed, and a re-applied change is checked again.
    # A supervisor's move also conflicts when the ticket moved on since (agentcli.server.moves).
    moved = moved_on(ticket, mutation.payload, wrote_since or wrote_since_reader(conn))
    if moved or _conflicts(ticket, mutation):
        return answer(
            mutation,
            Outcome.CONFLICT,
            version=ticket["version"],
            reason=moved or f"{mutation.type} changed since version {mutation.base_version}",
            current=to_wire("ticket", ticket),
        )
    reason = mutation_forbidden(agent, ticket, mutation.type, mutation.payload)
    if reason and not wrote_while_theirs(conn, agent, ticket, mutation.type, mutation.base_version):
        return answer(mutation, Outcome.REJECTED, reason=reason)
    return None


def new_version(
    conn: Connection,
    ticket: Mapping[str, Any],
    kind: MutationType,
    changes: dict[str, Any],
    after_apply: AfterApply | None,
) -> dict[str, Any]:
    """`changes` plus the next version, the field versions it moves and the derived fields."""
    version = ticket["version"] + 1
    for name, version_field in _FIELD_VERSIONS.items():
        if name in changes and changes[name] != ticket[name]:
            changes[version_field] = version
    changes |= {"version": version, "updated_at": now_epoch()}
    if after_apply is not None:
        changes |= after_apply.derive(conn, ticket, kind, changes)
    return changes


def audit_rows(
    agent: Mapping[str, Any],
    mutation: Incoming,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    extra: Mapping[str, Any],
    user_agent: str | None,
) -> list[dict[str, Any]]:
    """The audit trail of an applied mutation, to insert in this order: its message (if any),
    the macros it was written with, then each changed field.
    """
    client, at = mutation_client(user_agent, mutation.client_id), after["updated_at"]
    rows = []
    if mutation.type in (MutationType.REPLY, MutationType.NOTE):
        rows.append(
            event_values(
                ticket_id=after["id"],
                actor=agent["login"],
                client=client,
                field=str(mutation.type),
                old=None,
                new=extra["message_id"],
                at=at,
            )
        )
        # The macros the message was written with (validated in `message_of`), each once.
        for macro_id in dict.fromkeys(mutation.payload.get("macros", [])):
            rows.append(
                event_values(
                    ticket_id=after["id"],
                    actor=agent["login"],
                    client=client,
                    field="macro",
                    old=None,
                    new=macro_id,
                    at=at,
                )
            )
    rows += changed_events(before, after, actor=agent["login"], client=client, at=at)
    return rows


# Compare-and-set fields and the column recording the version at which each last changed.
_FIELD_VERSIONS = {
    "assignee": "assignee_version",
    "status": "status_version",
    "case_type": "case_version",
    "case_state": "case_version",
}


_CAS_FIELD_VERSIONS = {
    MutationType.ASSIGN: ("assignee_version",),
    MutationType.SET_STATUS: ("status_version",),
    MutationType.SET_CASE: ("case_version",),
}


def _conflicts(ticket: Mapping[str, Any], mutation: Incoming) -> bool:
    """Compare-and-set: conflict when the mutation's own field changed after base_version."""
    fields = _CAS_FIELD_VERSIONS.get(mutation.type)
    if not fields or mutation.base_version is None:
        return False
    return any(ticket[name] > mutation.base_version for name in fields)


Changes = tuple[dict[str, Any], dict[str, Any]]
# Rows an apply function wrote whose change-log entries `_decide` appends (a message).
Log = list[tuple[str, Mapping[str, Any]]]


def _text(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value.strip():
        raise Rejected(f"payload.{key} must be a non-empty string")
    return value


MESSAGE_KINDS = {MutationType.REPLY: MessageKind.PUBLIC, MutationType.NOTE: MessageKind.NOTE}
# What an apply function raises for a mutation that can never apply as sent.
INVALID = (Rejected, InvalidTransition, ValueError, TypeError, KeyError)


def message_of(
    agent: Mapping[str, Any], ticket: Mapping[str, Any], mutation: Incoming
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A reply's or note's message row (`records.message_values`) and the ticket changes it
    brings; raises one of INVALID when the payload is not a valid message.
    """
    kind = MESSAGE_KINDS[mutation.type]
    body = _text(mutation.payload, "body")
    problem = macros_problem(mutation.payload.get("macros", []))
    if problem:
        raise Rejected(problem)
    message = message_values(
        ticket_id=ticket["id"],
        kind=kind,
        author_kind=AuthorKind.AGENT,
        author=agent["login"],
        channel=Channel(ticket["channel"]),
        body=body,
    )
    changes: dict[str, Any] = {}
    if kind is MessageKind.PUBLIC and ticket["status"] == Status.NEW:
        changes["status"] = str(Status.OPEN)  # answered: it is being worked on
    return message, changes


def _message(conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log) -> Changes:
    values, changes = message_of(agent, ticket, m)
    message = insert_messages(conn, [values])[0]
    log.append(("message", message))
    return changes, {"message_id": message["id"]}


def _set_status(conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log) -> Changes:
    status = Status(_text(m.payload, "status"))
    return {"status": str(status)}, {}


def _set_priority(
    conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log
) -> Changes:
    return {"priority": str(Priority(_text(m.payload, "priority")))}, {}


def _move(conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log) -> Changes:
    def active(login: str) -> bool:
        return bool(conn.execute(_AGENT_ACTIVE, {"login": login}).scalar_one_or_none())

    return move_changes(m, active), {}


def move_changes(mutation: Incoming, active: Callable[[str], bool]) -> dict[str, Any]:
    """A move's (`assign`, `set-queue`) ticket changes; raises one of INVALID when it can never
    apply. `active` says whether a login is an active agent (asked only for an assign).
    """
    if mutation.type is MutationType.SET_QUEUE:
        return {"queue": _text(mutation.payload, "queue")}
    assignee = mutation.payload.get("assignee")
    if assignee is not None:
        if not isinstance(assignee, str):
            raise Rejected("payload.assignee must be a login or null")
        if not active(assignee):
            raise Rejected(f"no active agent {assignee!r}")
    return {"assignee": assignee}


def _tag(conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log) -> Changes:
    add, remove = m.payload.get("add", []), m.payload.get("remove", [])
    if not all(isinstance(t, str) and t for t in [*add, *remove]):
        raise Rejected("payload.add and payload.remove must be lists of tags")
    tags = [t for t in json.loads(ticket["tags"]) if t not in remove]
    tags += [t for t in add if t not in tags]
    return {"tags": json.dumps(tags, ensure_ascii=False)}, {}


def _set_case(conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log) -> Changes:
    target = CaseState(_text(m.payload, "state"))
    if ticket["case_type"] is None:
        case_type = CaseType(_text(m.payload, "type"))
        if target is not CaseState.REQUESTED:
            raise Rejected(f"a new case starts as requested, not {target}")
        return {"case_type": str(case_type), "case_state": str(target)}, {}
    case_type = CaseType(ticket["case_type"])
    if m.payload.get("type") not in (None, str(case_type)):
        raise Rejected(f"the ticket already has a {case_type} case")
    check_transition(case_type, CaseState(ticket["case_state"]), target)
    return {"case_state": str(target)}, {}


def _snooze(conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log) -> Changes:
    until = m.payload.get("until")
    if until is None:
        return {"snoozed_until": None}, {}
    moment = datetime.fromisoformat(_text(m.payload, "until").replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise Rejected("payload.until needs a timezone")
    return {"snoozed_until": int(moment.timestamp())}, {}


_APPLY: dict[MutationType, Callable[..., Changes]] = {
    MutationType.REPLY: _message,
    MutationType.NOTE: _message,
    MutationType.SET_STATUS: _set_status,
    MutationType.SET_PRIORITY: _set_priority,
    MutationType.ASSIGN: _move,
    MutationType.SET_QUEUE: _move,
    MutationType.TAG: _tag,
    MutationType.SET_CASE: _set_case,
    MutationType.SNOOZE: _snooze,
}
