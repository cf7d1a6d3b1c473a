"""The `:` command line: `:assign li`, `:status pending`, `:tag +破损 -vip`, `:macro ID`.

Parsing is pure; field commands become mutations for every target ticket (the cursor's, the
open one, or all marked ones), each compare-and-set against the version the agent saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from agentcli.domain.mutations import Mutation, MutationType
from agentcli.domain.vocabulary import Priority, Status

USAGE: dict[str, str] = {
    "assign": ":assign LOGIN|me|none",
    "status": ":status " + "|".join(s.value for s in Status),
    "priority": ":priority " + "|".join(p.value for p in Priority),
    "tag": ":tag +ADD -REMOVE …",
    "snooze": ":snooze 30m|2h|1d|off",
    "queue": ":queue NAME",
    "macro": ":macro ID",
    "note": ":note TEXT",
}
# What `a s p t z` open the command line with.
FIELD_PREFIX = {
    "assign": "assign ",
    "status": "status ",
    "priority": "priority ",
    "tag": "tag +",
    "snooze": "snooze ",
}


class CommandError(ValueError):
    """A command line that cannot run; `key` and `values` name the UI message."""

    def __init__(self, key: str, **values: str) -> None:
        self.key = key
        self.values = values
        super().__init__(f"{key} {values}")


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: tuple[str, ...]

    @property
    def rest(self) -> str:
        return " ".join(self.args)


def parse_command(text: str) -> Command:
    words = text.strip().removeprefix(":").split()
    if not words:
        raise CommandError("command.usage", usage=", ".join(USAGE.values()))
    name, args = words[0].lower(), tuple(words[1:])
    if name not in USAGE and name not in ("q", "quit"):
        raise CommandError("command.unknown", name=name)
    if name in USAGE and not args:
        raise CommandError("command.usage", usage=USAGE[name])
    command = Command(name, args)
    _check(command)
    return command


def _check(command: Command) -> None:
    usage = USAGE.get(command.name, "")
    first = command.args[0] if command.args else ""
    try:
        if command.name == "status":
            Status(first)
        elif command.name == "priority":
            Priority(first)
        elif command.name == "snooze" and first != "off":
            from agentcli.macros.actions import parse_duration  # not on the start-up path

            parse_duration(first)
    except ValueError:
        raise CommandError("command.usage", usage=usage) from None
    if command.name == "tag" and not any(a.lstrip("+-") for a in command.args):
        raise CommandError("command.usage", usage=usage)


def mutations_for(
    command: Command,
    targets: Sequence[tuple[int, int | None]],
    me: str,
    *,
    now: datetime | None = None,
) -> list[Mutation]:
    """Mutations doing `command` to each (ticket id, version seen); macro/quit make none."""
    payload = _payload(command, me, now)
    if payload is None:
        return []
    kind, body = payload
    return [Mutation(kind, ticket_id, version, dict(body)) for ticket_id, version in targets]


def _payload(
    command: Command, me: str, now: datetime | None
) -> tuple[MutationType, dict[str, object]] | None:
    first = command.args[0] if command.args else ""
    match command.name:
        case "assign":
            login = me if first == "me" else None if first in ("none", "-") else first
            return MutationType.ASSIGN, {"assignee": login}
        case "status":
            return MutationType.SET_STATUS, {"status": first}
        case "priority":
            return MutationType.SET_PRIORITY, {"priority": first}
        case "queue":
            return MutationType.SET_QUEUE, {"queue": command.rest}
        case "tag":
            add = [a.removeprefix("+") for a in command.args if not a.startswith("-")]
            remove = [a[1:] for a in command.args if a.startswith("-") and len(a) > 1]
            return MutationType.TAG, {"add": [a for a in add if a], "remove": remove}
        case "snooze":
            from agentcli.macros.actions import snooze_until

            until = None if first == "off" else snooze_until(first, now)
            return MutationType.SNOOZE, {"until": until}
        case "note":
            return MutationType.NOTE, {"body": command.rest}
    return None
