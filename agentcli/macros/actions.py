"""Macro actions: checking them, simulating their case steps, and turning them into mutations."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from agentcli.domain.cases import (
    CaseState,
    CaseType,
    InvalidTransition,
    allowed_transitions,
    check_transition,
)
from agentcli.domain.vocabulary import Priority, Status
from agentcli.macros.model import Action

ACTION_TYPES: tuple[str, ...] = (
    "set-status",
    "set-priority",
    "set-queue",
    "assign",
    "add-tags",
    "remove-tags",
    "set-case",
    "note",
    "snooze",
)
_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """`30m`, `4h`, `2d`, `1w` -> timedelta; ValueError otherwise."""
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"bad duration {text!r} (expected e.g. 30m, 4h, 2d, 1w)")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def action_problems(raw: Any) -> list[str]:
    """Why this raw `[[actions]]` table is not a valid action; empty when it is."""
    if not isinstance(raw, dict):
        return ["an action must be a table"]
    kind = raw.get("type")
    if kind not in ACTION_TYPES:
        return [f"unknown action type {kind!r} (known: {', '.join(ACTION_TYPES)})"]
    value = raw.get("value")
    allowed_keys = {"type", "case_type", "state"} if kind == "set-case" else {"type", "value"}
    problems = [f"{kind}: unknown key {key!r}" for key in raw if key not in allowed_keys]
    match kind:
        case "set-status":
            if value not in tuple(Status):
                problems.append(f"set-status: unknown status {value!r} ({_choices(Status)})")
        case "set-priority":
            if value not in tuple(Priority):
                problems.append(f"set-priority: unknown priority {value!r} ({_choices(Priority)})")
        case "set-queue":
            if not isinstance(value, str) or not value.strip():
                problems.append("set-queue: value must be a queue name")
        case "assign":
            if not isinstance(value, str):
                problems.append('assign: value must be "me", a login, or "" to unassign')
        case "add-tags" | "remove-tags":
            if not _str_list(value) or not value:
                problems.append(f"{kind}: value must be a non-empty list of tags")
        case "note":
            if not isinstance(value, str) or not value.strip():
                problems.append("note: value must be the note's text")
        case "snooze":
            try:
                parse_duration(value)
            except ValueError as error:
                problems.append(f"snooze: {error}")
        case "set-case":
            case_type, state = raw.get("case_type"), raw.get("state")
            if case_type is not None and case_type not in tuple(CaseType):
                problems.append(f"set-case: unknown case_type {case_type!r} ({_choices(CaseType)})")
            if state not in tuple(CaseState):
                problems.append(f"set-case: unknown state {state!r} ({_choices(CaseState)})")
    return problems


def make_action(raw: dict[str, Any], line: int = 0) -> Action:
    """An Action from a table `action_problems` found no fault in."""
    if raw["type"] == "set-case":
        return Action("set-case", None, raw.get("case_type"), raw["state"], line)
    value = raw["value"]
    if isinstance(value, list):
        value = tuple(value)
    return Action(raw["type"], value, line=line)


def _str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _choices(kind: Iterable[Any]) -> str:
    return "one of " + ", ".join(str(v) for v in kind)


# --- Case steps ----------------------------------------------------------------------------


def case_steps(
    actions: Iterable[Action], case_type: str | None, state: str | None
) -> tuple[str | None, str | None, list[str]]:
    """Run the set-case actions from the ticket's case (`case_type`, `state`; None = no case).

    Mirrors the store's rule (agentcli.store.outbox): a new case, or a changed type, starts
    as requested; setting the current state is a no-op; every other step must be allowed.
    Returns the final (type, state) and the errors, one per impossible step.
    """
    errors: list[str] = []
    for action in actions:
        if action.type != "set-case":
            continue
        new_type = action.case_type or case_type
        if new_type is None:
            errors.append(f"set-case {action.state}: the ticket has no case and no case_type given")
            continue
        current = state if state and new_type == case_type else CaseState.REQUESTED
        if action.state != current:
            try:
                check_transition(CaseType(new_type), CaseState(current), CaseState(action.state))
            except InvalidTransition as error:
                errors.append(str(error))
                continue
        case_type, state = new_type, action.state
    return case_type, state, errors


def possible_from_somewhere(actions: list[Action]) -> str | None:
    """For lint, which can't know the ticket: None when the set-case sequence works from
    some starting case; else why it never can."""
    steps = [a for a in actions if a.type == "set-case"]
    if not steps:
        return None
    types = [steps[0].case_type] if steps[0].case_type else list(CaseType)
    starts: list[tuple[str | None, str | None]] = [(None, None)]
    for kind in types:
        # Only states a case of this type can really be in (a refund-only case is never
        # "repaired", so "set repaired" can't be excused as a no-op from there).
        starts += [(str(kind), state) for state in sorted(reachable_states(str(kind)))]
    first_error = None
    for start_type, start_state in starts:
        if start_type is None and not steps[0].case_type:
            continue
        _, _, errors = case_steps(steps, start_type, start_state)
        if not errors:
            return None
        first_error = first_error or errors[0]
    # Report the step that fails from the most natural start (a fresh request), if any.
    fresh = case_steps(steps, None, None)[2] if steps[0].case_type else []
    return (fresh or [first_error or "impossible case steps"])[0]


def reachable_states(case_type: str) -> frozenset[str]:
    """Every state a case of `case_type` can ever be in (for lint hints)."""
    seen = {CaseState.REQUESTED}
    todo = [CaseState.REQUESTED]
    while todo:
        for target in allowed_transitions(CaseType(case_type), todo.pop()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return frozenset(str(s) for s in seen)


def snooze_until(duration: str, now: datetime | None = None) -> str:
    """ISO time `duration` from now (UTC), as the snooze mutation carries it."""
    moment = (now or datetime.now(UTC)) + parse_duration(duration)
    return moment.replace(microsecond=0).isoformat()
