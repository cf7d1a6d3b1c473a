"""`?`: every key of the console, as actually bound (a user keymap shows here too)."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agentcli.tui.i18n import Translator
from agentcli.tui.keymap import HELP_SECTIONS


def key_label(keys: str) -> str:
    names = {"slash": "/", "colon": ":", "question_mark": "?", "escape": "esc",
             "left_square_bracket": "[", "right_square_bracket": "]"}  # fmt: skip
    return " ".join(names.get(k.strip(), k.strip()) for k in keys.split(","))


def help_table(tr: Translator, keymap: dict[str, str]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for section, bindings in HELP_SECTIONS:
        table.add_row(Text(tr(section), style="bold underline"), "")
        seen: set[str] = set()
        for binding in bindings:
            if binding.id is None or binding.id in seen:
                continue
            seen.add(binding.id)
            label = tr(f"key.{binding.id}")
            if label == f"key.{binding.id}":
                continue  # internal binding without a description
            table.add_row(key_label(keymap.get(binding.id, binding.key)), label)
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "close", id="help.close")
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 72; height: 90%; border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, tr: Translator, keymap: dict[str, str]) -> None:
        super().__init__(id="help")
        self.tr = tr
        self.keymap = keymap

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(self.tr("help.title"), style="bold"))
            yield Static(help_table(self.tr, self.keymap))
            yield Static(Text(self.tr("help.close"), style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)
