"""The composer: a TextArea for a public reply or an internal note, with stacked macros.

Keys typed here are text: the letter keys of the list and ticket views never reach their
bindings, because the TextArea consumes printable keys. Only ctrl+s (send), ctrl+t (macro)
and esc (close, keeping the draft) act; `/` at the start of a line opens the macro picker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, TextArea

from agentcli.tui.keymap import COMPOSER_BINDINGS
from agentcli.tui.keyorder import run_bindings_now

DRAFT_DELAY = 0.3  # seconds of quiet before the draft is written


class ComposerArea(TextArea):
    @dataclass
    class MacroRequested(Message):
        pass

    async def _on_key(self, event: events.Key) -> None:
        if await run_bindings_now(self, event, typed=("enter",)):
            return  # ctrl+u, escape, ...: acted on in typing order
        if event.character == "/" and self.cursor_location[1] == 0:
            # `/` at the start of a line opens the picker instead of typing a slash.
            event.prevent_default()
            event.stop()
            self.post_message(self.MacroRequested())


class Composer(Vertical):
    BINDINGS = COMPOSER_BINDINGS
    DEFAULT_CSS = """
    Composer { height: 14; display: none; border-top: heavy $accent; }
    Composer.-open { display: block; }
    Composer.-note { border-top: heavy $warning; }
    Composer ComposerArea { height: 1fr; }
    Composer #composer-title { height: 1; text-style: bold; }
    Composer #composer-hint { height: auto; color: $text-muted; }
    """

    @dataclass
    class SendRequested(Message):
        kind: str
        body: str
        macros: list[dict[str, Any]]

    @dataclass
    class Closed(Message):
        pass

    @dataclass
    class DraftChanged(Message):
        kind: str
        body: str
        macros: list[dict[str, Any]]

    def __init__(self, tr: Any) -> None:
        super().__init__(id="composer")
        self.tr = tr
        self.kind = "reply"
        self.macros: list[dict[str, Any]] = []
        self._timer: Any = None
        self._loading = False

    def compose(self) -> ComposeResult:
        yield Static("", id="composer-title")
        yield ComposerArea(id="composer-area", soft_wrap=True, show_line_numbers=False)
        yield Static("", id="composer-hint")

    @property
    def area(self) -> ComposerArea:
        return self.query_one(ComposerArea)

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, kind: str, body: str = "", macros: list[dict[str, Any]] | None = None) -> None:
        self.kind = kind
        self.macros = list(macros or [])
        self.set_class(kind == "note", "-note")
        self.add_class("-open")
        self.query_one("#composer-title", Static).update(
            self.tr("composer.note" if kind == "note" else "composer.reply")
        )
        self._loading = True  # loading a draft is not typing: don't write it back
        self.area.load_text(body)
        self._loading = False
        self.area.move_cursor(self.area.document.end)
        self._show_hint()
        self.screen.set_focus(self.area)  # at once, so no typed key can miss the editor

    def close(self) -> None:
        self._flush()
        self.remove_class("-open")
        self.post_message(self.Closed())

    def clear(self) -> None:
        self._loading = True
        self.area.load_text("")
        self._loading = False
        self.macros = []
        self._show_hint()

    def insert(self, text: str, macro: dict[str, Any]) -> None:
        """Insert a rendered macro at the cursor and remember it for its actions."""
        self.area.insert(text)
        self.macros.append(macro)
        self._show_hint()
        self._changed()
        self.screen.set_focus(self.area)  # at once: the next typed key continues the text

    def _show_hint(self, extra: str | None = None) -> None:
        hint = Text(self.tr("composer.hint"))
        if self.macros:
            names = ", ".join(m["id"] for m in self.macros)
            hint.append("\n" + self.tr("composer.actions", actions=names), style="cyan")
        if extra:
            hint.append("\n" + extra, style="yellow")
        self.query_one("#composer-hint", Static).update(hint)

    def note(self, text: str) -> None:
        self._show_hint(text)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if not self._loading:
            self._changed()

    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DRAFT_DELAY, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
            self.post_message(self.DraftChanged(self.kind, self.area.text, list(self.macros)))

    def action_send(self) -> None:
        if not self.is_open:
            return
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.post_message(self.SendRequested(self.kind, self.area.text, list(self.macros)))

    def action_close(self) -> None:
        self.close()

    def action_macro(self) -> None:
        self.post_message(ComposerArea.MacroRequested())
