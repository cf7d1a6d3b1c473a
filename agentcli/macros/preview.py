"""What a macro would do to one ticket (`preview`, pure) and the mutations that do it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentcli.domain.mutations import Mutation, MutationType, applied_macros
from agentcli.macros.actions import case_steps, snooze_until
from agentcli.macros.model import Macro, MacroError
from agentcli.macros.render import Renderer, locale_for


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: Any
    after: Any

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


@dataclass(frozen=True, slots=True)
class Preview:
    """The rendered reply and field changes; `text` is None when variables are missing."""

    text: str | None
    field_changes: tuple[FieldChange, ...]
    missing_vars: tuple[str, ...]
    macro_id: str = ""
    locale: str = ""
    notes: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()  # impossible case steps and the like
    snooze: str | None = None  # duration ("2d"): the time is fixed when mutations are made
    steps: tuple[dict[str, Any], ...] = field(default=(), repr=False)  # ordered actions

    @property
    def ok(self) -> bool:
        return not self.missing_vars and not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "macro": self.macro_id,
            "locale": self.locale,
            "text": self.text,
            "notes": list(self.notes),
            "field_changes": [change.as_dict() for change in self.field_changes],
            "missing_vars": list(self.missing_vars),
            "errors": list(self.errors),
        }


def preview(
    macro: Macro,
    context: Mapping[str, Any],
    locale: str | None = None,
    vars: Mapping[str, Any] | None = None,
    *,
    renderer: Renderer,
) -> Preview:
    """Render `macro` for the ticket in `context` (see agentcli.macros.context) and work out
    its field changes, without touching anything. `locale` defaults to the customer's."""
    locale = locale or locale_for(context)
    data = {**context, "vars": {**(context.get("vars") or {}), **(vars or {})}}
    missing: list[str] = []
    rendered = renderer.render(macro, data, locale)
    missing += rendered.missing
    notes: list[str] = []
    for action in macro.actions:
        if action.type == "note":
            note = renderer.render(macro, data, locale, part=str(action.value))
            missing += [name for name in note.missing if name not in missing]
            notes.append(note.text or "")
    ticket = dict(context.get("ticket") or {})
    case = context.get("case") or {}
    changes, steps, errors, snooze = _field_changes(macro, ticket, case, context)
    return Preview(
        text=None if missing else rendered.text,
        field_changes=tuple(changes),
        missing_vars=tuple(dict.fromkeys(missing)),
        macro_id=macro.id,
        locale=locale,
        notes=() if missing else tuple(notes),
        errors=tuple(errors),
        snooze=snooze,
        steps=tuple(steps),
    )


def _field_changes(
    macro: Macro, ticket: dict[str, Any], case: Mapping[str, Any], context: Mapping[str, Any]
) -> tuple[list[FieldChange], list[dict[str, Any]], list[str], str | None]:
    after = dict(ticket)
    tags = list(ticket.get("tags") or [])
    case_type, case_state = case.get("type"), case.get("state")
    steps: list[dict[str, Any]] = []
    errors: list[str] = []
    snooze = None
    for action in macro.actions:
        match action.type:
            case "set-status" | "set-priority" | "set-queue":
                name = action.type.removeprefix("set-")
                after[name] = action.value
                steps.append({"type": action.type, name: action.value})
            case "assign":
                after["assignee"] = action.value
                steps.append({"type": "assign", "assignee": action.value})
            case "add-tags":
                tags += [tag for tag in action.value if tag not in tags]
                steps.append({"type": "tag", "add": list(action.value), "remove": []})
            case "remove-tags":
                tags = [tag for tag in tags if tag not in action.value]
                steps.append({"type": "tag", "add": [], "remove": list(action.value)})
            case "set-case":
                new_type, new_state, step_errors = case_steps([action], case_type, case_state)
                errors += step_errors
                if not step_errors:
                    case_type, case_state = new_type, new_state
                    steps.append({"type": "set-case", "case_type": new_type, "state": new_state})
            case "snooze":
                snooze = str(action.value)
                steps.append({"type": "snooze", "duration": snooze})
    changes = [
        FieldChange(name, ticket.get(name), after[name])
        for name in ("status", "priority", "queue", "assignee")
        if name in after and after[name] != ticket.get(name)
    ]
    if tags != list(ticket.get("tags") or []):
        changes.append(FieldChange("tags", list(ticket.get("tags") or []), tags))
    if case_type != case.get("type"):
        changes.append(FieldChange("case_type", case.get("type"), case_type))
    if case_state != case.get("state"):
        changes.append(FieldChange("case_state", case.get("state"), case_state))
    if snooze:
        changes.append(FieldChange("snoozed_until", ticket.get("snoozed_until"), f"+{snooze}"))
    return changes, steps, errors, snooze


def to_mutations(
    preview: Preview,
    ticket_id: int,
    base_version: int | None,
    me: str,
    *,
    now: datetime | None = None,
) -> list[Mutation]:
    """The mutations that carry out `preview`: reply, notes, then each action in file order.
    Raises MacroError when the preview is not sendable (missing variables, bad case step)."""
    if preview.missing_vars:
        raise MacroError("missing variables: " + ", ".join(preview.missing_vars))
    if preview.errors:
        raise MacroError("; ".join(preview.errors))
    out: list[Mutation] = []

    def add(kind: MutationType, payload: dict[str, Any]) -> None:
        out.append(Mutation(kind, ticket_id, base_version, payload))

    if preview.text and preview.text.strip():
        # The reply names its macro: the server's audit trail feeds `macro suggest`.
        add(
            MutationType.REPLY, {"body": preview.text, "macros": applied_macros([preview.macro_id])}
        )
    for note in preview.notes:
        add(MutationType.NOTE, {"body": note})
    for step in preview.steps:
        match step["type"]:
            case "set-status":
                add(MutationType.SET_STATUS, {"status": step["status"]})
            case "set-priority":
                add(MutationType.SET_PRIORITY, {"priority": step["priority"]})
            case "set-queue":
                add(MutationType.SET_QUEUE, {"queue": step["queue"]})
            case "assign":
                assignee = me if step["assignee"] == "me" else step["assignee"]
                add(MutationType.ASSIGN, {"assignee": assignee or None})
            case "tag":
                add(MutationType.TAG, {"add": step["add"], "remove": step["remove"]})
            case "set-case":
                add(MutationType.SET_CASE, {"type": step["case_type"], "state": step["state"]})
            case "snooze":
                add(MutationType.SNOOZE, {"until": snooze_until(step["duration"], now)})
    return out
