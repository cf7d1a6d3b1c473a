"""What every console screen shares: the status line, the `:` command line, field keys."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Static

from agentcli.tui.commands import FIELD_PREFIX
from agentcli.tui.keymap import ACTION_BINDINGS
from agentcli.tui.keyorder import OrderedInput
from agentcli.tui.widgets.panes import StatusLine

if TYPE_CHECKING:
    from textual.timer import Timer

    from agentcli.tui.app import ConsoleApp

NOTICE_SECONDS = 8.0


class CommandLine(OrderedInput):
    """`:` commands; hidden until opened, closed by enter or esc."""

    DEFAULT_CSS = """
    CommandLine { display: none; height: 1; padding: 0 1; }
    CommandLine, CommandLine:focus { border: none; }
    CommandLine.-open { display: block; }
    """

    def key_escape(self) -> None:
        self.close()

    def close(self) -> None:
        self.remove_class("-open")
        self.value = ""
        self.screen.focus_default()  # type: ignore[attr-defined]
        self.release_keys(self.app.focused)  # typed after enter: the list's or the thread's


class ConsoleScreen(Screen[None]):
    BINDINGS = ACTION_BINDINGS
    # Textual repaints the whole screen when focus moves (~10-50 ms at 160x45 with CJK
    # text); the widgets gaining and losing focus restyle themselves, which is all that
    # changes on these screens, so moving focus between the list and the filter line costs
    # two small repaints instead.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    _notice_timer: Timer | None = None

    @property
    def console(self) -> ConsoleApp:
        return self.app  # type: ignore[return-value]

    def compose_bottom(self) -> ComposeResult:
        # One docked container: widgets docked to the same edge one by one would overlap, and
        # the status line would hide the notice and the command line.
        with Vertical(id="bottom-bar"):
            yield Static("", id="notice")
            # select_on_focus off: `s` opens ":status " and the next keys must extend it.
            yield CommandLine(
                placeholder=self.console.tr("command.placeholder"),
                id="command-line",
                select_on_focus=False,
                hold_after_submit=True,
            )
            yield StatusLine(id="status-line")

    def on_mount(self) -> None:
        self.show_status(self.console.status_text())

    def focus_default(self) -> None:
        """Give focus back to the screen's main widget (the list, the thread), at once."""

    def targets(self) -> list[tuple[int, int | None]]:
        """(ticket id, version seen) that field commands act on here."""
        return []

    def show_status(self, text: Text) -> None:
        for line in self.query(StatusLine):
            line.update(text)

    def notice(self, text: str, error: bool = False) -> None:
        """Show a one-line answer above the status line until the next one or NOTICE_SECONDS."""
        view = self.query_one("#notice", Static)
        view.update(Text(text, style="bold red" if error else "green"))
        view.add_class("-shown")
        if self._notice_timer is not None:
            self._notice_timer.stop()
        self._notice_timer = self.set_timer(NOTICE_SECONDS, lambda: view.remove_class("-shown"))

    def open_command_line(self, text: str = "") -> None:
        line = self.query_one(CommandLine)
        line.add_class("-open")
        line.value = text
        line.cursor_position = len(text)
        self.set_focus(line)  # now, not after a refresh: the next keys are its text

    def action_field(self, name: str) -> None:
        self.open_command_line(FIELD_PREFIX[name])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if not isinstance(event.input, CommandLine):
            return
        event.stop()
        text = event.value
        event.input.close()  # type: ignore[attr-defined]
        self.console.run_command_line(text, self)
