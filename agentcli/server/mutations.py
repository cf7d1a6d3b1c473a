"""Settling pushed mutations: applied, duplicate, conflict or rejected — exactly once per id.

A batch runs in one write transaction (one commit, consecutive seqs); each mutation runs in a
savepoint so an unexpected database error undoes only that mutation. Every settled answer is
recorded under the client's id, so a retried push gets the original answer and no second effect.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, RowMapping, bindparam, select
from sqlalchemy.exc import IntegrityError

from agentcli.domain.cases import CaseState, CaseType, InvalidTransition, check_transition
from agentcli.domain.clock import now_epoch
from agentcli.domain.mutations import MutationType, Outcome, macros_problem
from agentcli.domain.vocabulary import AuthorKind, Channel, MessageKind, Priority, Status
from agentcli.server.audit import changed_events, event_values, insert_events, mutation_client
from agentcli.server.changelog import append_change_list
from agentcli.server.db import write_tx
from agentcli.server.moves import moved_on, wrote_while_theirs
from agentcli.server.permissions import mutation_forbidden
from agentcli.server.records import insert_message, lock_tickets, write_ticket
from agentcli.server.schema import agents, applied_mutations
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
    `after` runs after the update in the same transaction (queue an outbound email).
    """

    def derive(
        self, conn: Connection, ticket: RowMapping, kind: MutationType, changes: dict[str, Any]
    ) -> dict[str, Any]: ...

    def after(
        self, conn: Connection, row: RowMapping, kind: MutationType, extra: dict[str, Any]
    ) -> None: ...


AfterApply = Hooks  # the name app.py passes it under


def apply_batch(
    engine: Engine,
    agent: Mapping[str, Any],
    batch: list[Incoming],
    after_apply: AfterApply | None = None,
    user_agent: str | None = None,
) -> list[dict[str, Any]]:
    """`user_agent` is the sending program's own name, recorded in the audit trail."""
    results = []
    with write_tx(engine) as conn:
        # One lookup for the whole batch: the writer lock is held from here to commit, so no
        # other push can record an id in between; ids settled earlier in this batch are added
        # as they commit (a mutation rolled back by an error is not recorded, as before).
        ids = list({m.client_id for m in batch})
        seen: dict[str, str] = {str(k): str(v) for k, v in conn.execute(_SEEN, {"ids": ids})}
        # The batch's tickets read and row-locked at once (two agents racing for one ticket see
        # each other's change: the lock is held to commit). Only a mutation's own update changes
        # a ticket here, so each is kept current from the update's RETURNING once its savepoint
        # is released; a mutation undone by its savepoint leaves the copy as the database has it.
        tickets = lock_tickets(conn, {m.ticket_id for m in batch if m.client_id not in seen})
        records: list[dict[str, Any]] = []
        for mutation in batch:
            # Plain SAVEPOINT statements: `begin_nested()` compiles a new savepoint clause per
            # call (a fifth of a batch's time); the savepoints are never nested here.
            conn.exec_driver_sql(_SAVEPOINT)
            try:
                result, recorded, updated = _settle(
                    conn,
                    agent,
                    mutation,
                    seen.get(mutation.client_id),
                    tickets.get(mutation.ticket_id),
                    after_apply,
                    user_agent,
                )
                conn.exec_driver_sql(_RELEASE)
            except IntegrityError as error:
                conn.exec_driver_sql(_ROLLBACK_TO)
                conn.exec_driver_sql(_RELEASE)
                result = _result(mutation, Outcome.REJECTED, reason=f"invalid: {error.orig}")
            else:
                if updated is not None:
                    tickets[mutation.ticket_id] = updated
                if recorded is not None:
                    seen[mutation.client_id] = recorded
                    records.append(
                        {
                            "client_id": mutation.client_id,
                            "agent": agent["login"],
                            "result": recorded,
                            "created_at": now_epoch(),
                        }
                    )
            results.append(result)
        # The answers recorded in one executemany, in the same transaction: none of these ids
        # was recorded before (checked above, under the writer lock), so this cannot conflict,
        # and a mutation undone by its savepoint is not among them.
        if records:
            conn.execute(_RECORD, records)
    return results


_SAVEPOINT = "SAVEPOINT acli_mutation"
_RELEASE = "RELEASE SAVEPOINT acli_mutation"
_ROLLBACK_TO = "ROLLBACK TO SAVEPOINT acli_mutation"


# Built once: per-mutation statement construction was most of the cost of a push.
_SEEN = select(applied_mutations.c.client_id, applied_mutations.c.result).where(
    applied_mutations.c.client_id.in_(bindparam("ids", expanding=True))
)
_RECORD = applied_mutations.insert()
_AGENT_ACTIVE = select(agents.c.active).where(agents.c.login == bindparam("login"))


def _result(mutation: Incoming, outcome: Outcome, **fields: Any) -> dict[str, Any]:
    return {"client_id": mutation.client_id, "outcome": str(outcome), **fields}


def _settle(
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
    if ticket is None:
        reason = f"unknown ticket {mutation.ticket_id}"
        return _result(mutation, Outcome.REJECTED, reason=reason), None
    # Conflict before permission: when the field changed after the version the user saw, the
    # race is the news (an agent whose ticket a supervisor just took must learn "someone else
    # changed it", with the new state, not a bare "forbidden"). Nothing leaks: every agent
    # reads every ticket in the change feed, and a re-applied change is checked again.
    # A supervisor's move also conflicts when the ticket moved on since (agentcli.server.moves).
    moved = moved_on(conn, ticket, mutation.payload)
    if moved or _conflicts(ticket, mutation):
        conflict = _result(
            mutation,
            Outcome.CONFLICT,
            version=ticket["version"],
            reason=moved or f"{mutation.type} changed since version {mutation.base_version}",
            current=to_wire("ticket", ticket),
        )
        return conflict, None
    reason = mutation_forbidden(agent, ticket, mutation.type, mutation.payload)
    if reason and not wrote_while_theirs(conn, agent, ticket, mutation.type, mutation.base_version):
        return _result(mutation, Outcome.REJECTED, reason=reason), None
    # The mutation's change-log entries, written together after the update (one statement on
    # PostgreSQL) in the order the one-at-a-time path wrote them: message, ticket, events.
    log: Log = []
    try:
        changes, extra = _APPLY[mutation.type](conn, agent, ticket, mutation, log)
    except (Rejected, InvalidTransition, ValueError, TypeError, KeyError) as error:
        return _result(mutation, Outcome.REJECTED, reason=f"invalid: {error}"), None
    version = ticket["version"] + 1
    for name, version_field in _FIELD_VERSIONS.items():
        if name in changes and changes[name] != ticket[name]:
            changes[version_field] = version
    changes |= {"version": version, "updated_at": now_epoch()}
    if after_apply is not None:
        changes |= after_apply.derive(conn, ticket, mutation.type, changes)
    row = write_ticket(conn, ticket["id"], changes)
    log.append(("ticket", row))
    ticket_entry = len(log) - 1
    log += _audit(conn, agent, mutation, ticket, row, extra, user_agent)
    seq = append_change_list(conn, log)[ticket_entry]
    if after_apply is not None:
        after_apply.after(conn, row, mutation.type, extra)
    return _result(mutation, Outcome.APPLIED, version=version, seq=seq, **extra), row


def _audit(
    conn: Connection,
    agent: Mapping[str, Any],
    mutation: Incoming,
    before: RowMapping,
    after: RowMapping,
    extra: Mapping[str, Any],
    user_agent: str | None,
) -> Log:
    """Insert the audit trail of an applied mutation: its message (if any), then each changed
    field. Returns the events' change-log entries, which the caller must append.
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
        # The macros the message was written with (validated in `_message`), each once.
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
    return [("event", event) for event in insert_events(conn, rows)]


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


def _conflicts(ticket: RowMapping, mutation: Incoming) -> bool:
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


def _message(kind: MessageKind) -> Callable[..., Changes]:
    def apply(
        conn: Connection,
        agent: Mapping[str, Any],
        ticket: RowMapping,
        mutation: Incoming,
        log: Log,
    ) -> Changes:
        body = _text(mutation.payload, "body")
        problem = macros_problem(mutation.payload.get("macros", []))
        if problem:
            raise Rejected(problem)
        message = insert_message(
            conn,
            ticket_id=ticket["id"],
            kind=kind,
            author_kind=AuthorKind.AGENT,
            author=agent["login"],
            channel=Channel(ticket["channel"]),
            body=body,
        )
        log.append(("message", message))
        changes: dict[str, Any] = {}
        if kind is MessageKind.PUBLIC and ticket["status"] == Status.NEW:
            changes["status"] = str(Status.OPEN)  # answered: it is being worked on
        return changes, {"message_id": message["id"]}

    return apply


def _set_status(conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log) -> Changes:
    status = Status(_text(m.payload, "status"))
    return {"status": str(status)}, {}


def _set_priority(
    conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log
) -> Changes:
    return {"priority": str(Priority(_text(m.payload, "priority")))}, {}


def _assign(conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log) -> Changes:
    assignee = m.payload.get("assignee")
    if assignee is not None:
        if not isinstance(assignee, str):
            raise Rejected("payload.assignee must be a login or null")
        active = conn.execute(_AGENT_ACTIVE, {"login": assignee}).scalar_one_or_none()
        if not active:
            raise Rejected(f"no active agent {assignee!r}")
    return {"assignee": assignee}, {}


def _set_queue(conn: Connection, agent: Any, ticket: RowMapping, m: Incoming, log: Log) -> Changes:
    return {"queue": _text(m.payload, "queue")}, {}


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
    MutationType.REPLY: _message(MessageKind.PUBLIC),
    MutationType.NOTE: _message(MessageKind.NOTE),
    MutationType.SET_STATUS: _set_status,
    MutationType.SET_PRIORITY: _set_priority,
    MutationType.ASSIGN: _assign,
    MutationType.SET_QUEUE: _set_queue,
    MutationType.TAG: _tag,
    MutationType.SET_CASE: _set_case,
    MutationType.SNOOZE: _snooze,
}
