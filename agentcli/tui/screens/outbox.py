"""The outbox: queued changes not yet settled by the server (and rejected ones, with why)."""

from __future__ import annotations

import json
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agentcli.domain.inert import inert
from agentcli.tui.data import StoreAccess
from agentcli.tui.i18n import Translator
from agentcli.tui.render import local_time

SHOWN = 200


class OutboxScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,o,q", "close", "close", id="outbox.close")
    ]
    DEFAULT_CSS = """
    OutboxScreen { align: center middle; }
    OutboxScreen > VerticalScroll {
        width: 90%; height: 80%; border: thick $accent; background: $surface;
    }
    """

    def __init__(self, tr: Translator, store: StoreAccess) -> None:
        super().__init__(id="outbox")
        self.tr = tr
        self.store = store

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(self.tr("outbox.title"), style="bold"))
            yield Static(self.tr("list.loading"), id="outbox-rows")

    def on_mount(self) -> None:
        self._read()

    @work(thread=True)
    def _read(self) -> None:
        rows = (
            self.store.db()
            .conn.execute(
                "SELECT seq, type, ticket_id, payload, created_at, state, last_error FROM outbox"
                " ORDER BY seq LIMIT ?",
                (SHOWN,),
            )
            .fetchall()
        )
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[tuple]) -> None:  # type: ignore[type-arg]
        view = self.query_one("#outbox-rows", Static)
        if not rows:
            view.update(Text(self.tr("outbox.empty"), style="dim"))
            return
        table = Table(expand=True)
        for name in ("#", "type", "ticket", "payload", "time", "state"):
            table.add_column(name)
        for seq, kind, ticket_id, payload, created, state, error in rows:
            summary = json.dumps(json.loads(payload), ensure_ascii=False)[:80]
            table.add_row(
                str(seq),
                kind,
                f"#{ticket_id}",
                Text(inert(summary)),
                local_time(created),
                Text(state + (f": {error}" if error else ""), style="red" if error else ""),
            )
        view.update(table)

    def action_close(self) -> None:
        self.dismiss(None)
