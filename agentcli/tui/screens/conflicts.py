"""Conflicts: changes of this agent that lost a compare-and-set race on the server.

The store already shows the server's value; each record keeps the agent's intent until they
re-apply it (a new mutation against the ticket's current version, pushed at once) or discard
it. Reads and writes run in thread workers on the worker's own store connection.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from agentcli.domain.inert import inert
from agentcli.store.conflicts import ConflictError, discard, list_conflicts, reapply
from agentcli.tui.data import StoreAccess
from agentcli.tui.i18n import Translator
from agentcli.tui.render import local_time

if TYPE_CHECKING:
    from agentcli.tui.app import ConsoleApp


class ConflictsScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,c,q", "close", "close", id="conflicts.close"),
        Binding("j,down", "move(1)", "down", id="conflicts.down"),
        Binding("k,up", "move(-1)", "up", id="conflicts.up"),
        Binding("r", "resolve('reapply')", "re-apply", id="conflicts.reapply"),
        Binding("d", "resolve('discard')", "discard", id="conflicts.discard"),
    ]
    DEFAULT_CSS = """
    ConflictsScreen { align: center middle; }
    ConflictsScreen > VerticalScroll {
        width: 90%; height: 80%; border: thick $error; background: $surface;
    }
    """

    def __init__(self, tr: Translator, store: StoreAccess, me: str) -> None:
        super().__init__(id="conflicts")
        self.tr = tr
        self.store = store
        self.me = me
        self.rows: list[dict[str, Any]] = []
        self.cursor = 0

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(self.tr("conflicts.title"), style="bold"))
            yield Static(Text(self.tr("conflicts.help"), style="dim"))
            yield Static(self.tr("list.loading"), id="conflict-rows")
            yield Static("", id="conflict-notice")

    def on_mount(self) -> None:
        self._read()

    @work(thread=True, exclusive=True, group="conflicts")
    def _read(self) -> None:
        rows = list_conflicts(self.store.db())
        self.app.call_from_thread(self._show, rows)

    def _show(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.cursor = min(self.cursor, max(len(rows) - 1, 0))
        view = self.query_one("#conflict-rows", Static)
        if not rows:
            view.update(Text(self.tr("conflicts.empty"), style="dim"))
            return
        table = Table(expand=True)
        for name in ("#", "ticket", "change", "yours", "server", "why", "time"):
            table.add_column(name)
        for index, row in enumerate(rows):
            server = row["server_state"] or {}
            theirs = {k: server.get(k) for k in row["payload"] if k in server}
            table.add_row(
                str(row["id"]),
                f"#{row['ticket_id']}",
                row["type"],
                # Payloads and reasons may carry customer or server text: always inert.
                Text(inert(json.dumps(row["payload"], ensure_ascii=False))[:60]),
                Text(inert(json.dumps(theirs, ensure_ascii=False))[:60]),
                Text(inert(row["reason"] or ""))[:60],
                local_time(row["created_at"]),
                style="reverse" if index == self.cursor else "",
            )
        view.update(table)

    def action_move(self, step: int) -> None:
        if self.rows:
            self.cursor = max(0, min(len(self.rows) - 1, self.cursor + step))
            self._show(self.rows)

    def action_resolve(self, how: str) -> None:
        if self.rows:
            self._resolve(int(self.rows[self.cursor]["id"]), how)

    @work(thread=True, exclusive=True, group="conflicts")
    def _resolve(self, conflict_id: int, how: str) -> None:
        db = self.store.db()
        try:
            if how == "reapply":
                reapply(db, conflict_id, author=self.me)
            else:
                discard(db, conflict_id)
        except ConflictError as error:
            self.app.call_from_thread(self._notice, str(error), True)
        else:
            key = "conflicts.reapplied" if how == "reapply" else "conflicts.discarded"
            self.app.call_from_thread(self._notice, self.tr(key, id=conflict_id), False)
            self.app.call_from_thread(self._done, how == "reapply")
        rows = list_conflicts(db)
        self.app.call_from_thread(self._show, rows)

    def _notice(self, text: str, error: bool) -> None:
        style = "bold red" if error else "green"
        self.query_one("#conflict-notice", Static).update(Text(text, style=style))

    def _done(self, reapplied: bool) -> None:
        app: ConsoleApp = self.app  # type: ignore[assignment]
        app.conflicts_resolved(reapplied)

    def action_close(self) -> None:
        self.dismiss(None)
