"""Key bindings with stable ids, and the user's keymap file that rebinds them.

The keymap file is TOML in the user config dir (`keymap.toml`), one binding id to a key list:

    [keys]
    "list.down" = "j,down,ctrl+n"
    "app.help" = "f1"

Textual applies it through `App.set_keymap`, so every screen's BINDINGS stay the single
source of truth and the help screen shows whatever keys are actually bound.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from platformdirs import user_config_dir
from textual.binding import Binding

KEYMAP_FILE = "keymap.toml"


def keymap_path() -> Path:
    return Path(user_config_dir("agentcli", appauthor=False)) / KEYMAP_FILE


def load_keymap(path: Path | None = None) -> tuple[dict[str, str], list[str]]:
    """(binding id -> keys, problems). A broken file never stops the console: it is reported
    and the defaults stay."""
    path = path or keymap_path()
    if not path.is_file():
        return {}, []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        return {}, [f"{path}: {error}"]
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        return {}, [f"{path}: [keys] must be a table"]
    known = all_binding_ids()
    out: dict[str, str] = {}
    problems: list[str] = []
    for binding_id, value in keys.items():
        if binding_id not in known:
            problems.append(f"{path}: unknown binding id {binding_id!r}")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f'{path}: {binding_id!r} needs a key string such as "j,down"')
        else:
            out[binding_id] = value.strip()
    return out, problems


def _b(key: str, action: str, binding_id: str, show: bool = False) -> Binding:
    # Descriptions are translated at display time from the id (i18n "key.<id>").
    return Binding(key, action, binding_id, show=show, id=binding_id)


# The ticket list's own keys (the widget holds them, so they act only when it has focus).
LIST_BINDINGS: list[Binding] = [
    _b("j,down", "cursor_down", "list.down"),
    _b("k,up", "cursor_up", "list.up"),
    _b("g,home", "top", "list.top"),
    _b("G,end", "bottom", "list.bottom"),
    _b("ctrl+d", "half_down", "list.half_down"),
    _b("ctrl+u", "half_up", "list.half_up"),
    _b("pagedown,ctrl+f", "page_down", "list.page_down"),
    _b("pageup,ctrl+b", "page_up", "list.page_up"),
    _b("enter,l", "open", "list.open"),
    _b("x", "mark", "list.mark"),
]

INBOX_BINDINGS: list[Binding] = [
    _b("slash", "filter", "inbox.filter"),
    _b("right_square_bracket,tab", "next_view", "inbox.next_view"),
    _b("left_square_bracket,shift+tab", "prev_view", "inbox.prev_view"),
    _b("M", "metrics", "inbox.metrics"),
    _b("S", "supervisor", "inbox.supervisor"),  # supervisors and admins only
]

# The supervisor board (agentcli.tui.screens.supervisor).
SUPERVISOR_BINDINGS: list[Binding] = [
    _b("escape", "back", "supervisor.back"),
    _b("j", "cursor(1)", "supervisor.down"),
    _b("k", "cursor(-1)", "supervisor.up"),
    _b("r", "reassign_agent", "supervisor.reassign_agent"),
    _b("m", "reassign_marked", "supervisor.reassign_marked"),
    _b("f", "reassign_query", "supervisor.reassign_query"),
    _b("b", "rebalance", "supervisor.rebalance"),
]

# The metrics charts (agentcli.tui.screens.metrics).
METRICS_BINDINGS: list[Binding] = [
    _b("escape", "back", "metrics.back"),
    _b("r", "reload", "metrics.reload"),
]

# Field actions work on the list (cursor or marked tickets) and on the open ticket.
ACTION_BINDINGS: list[Binding] = [
    _b("a", "field('assign')", "act.assign"),
    _b("s", "field('status')", "act.status"),
    _b("p", "field('priority')", "act.priority"),
    _b("t", "field('tag')", "act.tags"),
    _b("z", "field('snooze')", "act.snooze"),
]

TICKET_BINDINGS: list[Binding] = [
    _b("escape,h", "back", "ticket.back"),
    _b("J", "neighbour(1)", "ticket.next"),
    _b("K", "neighbour(-1)", "ticket.prev"),
    _b("r", "compose('reply')", "ticket.reply"),
    _b("n", "compose('note')", "ticket.note"),
    _b("m", "macro", "ticket.macro"),
    _b("H", "history", "ticket.history"),
    _b("M", "history_more", "ticket.history_more"),
    _b("j,down", "scroll_thread(1)", "ticket.scroll_down"),
    _b("k,up", "scroll_thread(-1)", "ticket.scroll_up"),
]

APP_BINDINGS: list[Binding] = [
    _b("colon", "command_line", "app.command"),
    _b("question_mark", "help", "app.help"),
    _b("o", "outbox", "app.outbox"),
    _b("c", "conflicts", "app.conflicts"),
    _b("q", "quit", "app.quit"),
]

COMPOSER_BINDINGS: list[Binding] = [
    Binding("ctrl+s", "send", "send", id="composer.send", priority=True),
    Binding("ctrl+t", "macro", "macro", id="composer.macro"),
    Binding("escape", "close", "close", id="composer.close"),
]

HELP_SECTIONS: list[tuple[str, list[Binding]]] = [
    ("help.section.list", LIST_BINDINGS + INBOX_BINDINGS + ACTION_BINDINGS),
    ("help.section.ticket", TICKET_BINDINGS + COMPOSER_BINDINGS),
    ("help.section.supervisor", SUPERVISOR_BINDINGS),
    ("help.section.metrics", METRICS_BINDINGS),
    ("help.section.global", APP_BINDINGS),
]


def all_binding_ids() -> set[str]:
    return {b.id for _, group in HELP_SECTIONS for b in group if b.id}
