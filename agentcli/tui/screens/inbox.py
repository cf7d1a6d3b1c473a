"""The inbox: sidebar of views with live counts, filter bar, virtual ticket list, preview."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical

from agentcli.domain.query import QuerySyntaxError, parse_query
from agentcli.store.views import builtin_views, list_views, sidebar_counts
from agentcli.tui.data import latest_message
from agentcli.tui.keymap import INBOX_BINDINGS
from agentcli.tui.messages import CursorMoved, OpenTicket, PreviewLoaded, SidebarCounts
from agentcli.tui.screens.base import ConsoleScreen
from agentcli.tui.widgets.panes import FilterBar, ListHeader, PreviewPane, Sidebar
from agentcli.tui.widgets.ticket_list import TicketList

# The cursor must rest this long before the preview is read, so a held `j` reads nothing.
PREVIEW_DELAY = 0.06
SIDEBAR_REFRESH = 30.0
VIEW_SHOWN_LATEST = 0.1  # seconds: the sidebar follows a view switch by then at the latest
BOARD_WARMUP_DELAY = 1.0  # after the first page: let the sidebar counts go first


class InboxScreen(ConsoleScreen):
    BINDINGS: ClassVar[list[BindingType]] = [*ConsoleScreen.BINDINGS, *INBOX_BINDINGS]

    def __init__(self) -> None:
        super().__init__(id="inbox")
        self.view_index = 0
        self.views: list[tuple[str, str]] = []
        self.filter_text = ""
        self._preview_timer = None
        self._preview_for: int | None = None
        self._counts_started = False
        self._view_pending: int | None = None  # the list generation the view waits for

    def compose(self) -> ComposeResult:
        app = self.console
        with Horizontal(id="inbox-body"):
            yield Sidebar(app.tr)
            with Vertical(id="inbox-main"):
                yield FilterBar(app.tr)
                yield ListHeader(app.tr)
                tickets = TicketList(app.store, me=app.me, tr=app.tr, clock=app.clock, id="tickets")
                tickets.on_paint = app.record_paint
                tickets.on_rows = self._rows_arrived
                tickets.key_time = app.last_key_time
                yield tickets
                yield PreviewPane(id="preview")
        yield from self.compose_bottom()

    @property
    def tickets(self) -> TicketList:
        return self.query_one(TicketList)

    def on_mount(self) -> None:
        super().on_mount()
        self.views = [(v.name, v.query) for v in self.console.initial_views]
        self.query_one(Sidebar).set_views(self.views, {})
        self.tickets.focus()
        self.select_view(0, probe="start")
        # Sidebar counts wait for the first page to paint (on_cursor_moved): on a cold 1M
        # file they compete with the page query for the disk and both CPUs.
        self._counts_started = False
        self.set_interval(SIDEBAR_REFRESH, self.refresh_counts)

    def focus_default(self) -> None:
        self.set_focus(self.tickets)

    def targets(self) -> list[tuple[int, int | None]]:
        return self.tickets.targets()

    # ------------------------------------------------------------ views and filter

    def select_view(self, index: int, probe: str | None = "view") -> None:
        if not self.views:
            return
        self.view_index = index % len(self.views)
        _name, text = self.views[self.view_index]
        self.filter_text = text
        self.tickets.set_query(parse_query(text), probe=probe)
        # The sidebar highlight and the filter line change in the frame that shows the view's
        # rows: a frame of their own first would delay the rows by a compositor pass. A slow
        # page gets them anyway.
        self._view_pending = self.tickets.generation
        self.set_timer(VIEW_SHOWN_LATEST, self._show_view)

    def _rows_arrived(self, generation: int) -> None:
        if generation == self._view_pending:
            self._show_view()

    def _show_view(self) -> None:
        if self._view_pending is None:
            return
        self._view_pending = None
        self.query_one(Sidebar).highlighted = self.view_index
        bar = self.query_one(FilterBar)
        if bar.has_class("-open"):  # a filter was applied: back to the list
            self.set_focus(self.tickets)
            bar.close(self.filter_text)
        else:
            bar.show(self.filter_text)

    def action_next_view(self) -> None:
        self.select_view(self.view_index + 1)

    def action_prev_view(self) -> None:
        self.select_view(self.view_index - 1)

    def on_sidebar_view_chosen(self, message: Sidebar.ViewChosen) -> None:
        self.select_view(message.index)
        self.tickets.focus()

    def action_filter(self) -> None:
        self.query_one(FilterBar).open(self.filter_text)

    def on_filter_bar_applied(self, message: FilterBar.Applied) -> None:
        self.filter_text = message.text
        self.tickets.set_query(message.query, probe="filter")
        # The bar closes and the list takes focus in the frame with the new rows: a focus
        # change repaints the whole screen, and a frame of its own would delay the rows.
        self._view_pending = self.tickets.generation
        self.set_timer(VIEW_SHOWN_LATEST, self._show_view)

    def on_filter_bar_cancelled(self, message: FilterBar.Cancelled) -> None:
        self.query_one(FilterBar).close(self.filter_text)
        self.set_focus(self.tickets)

    def apply_filter(self, text: str) -> bool:
        """Programmatic filter (the command palette, tests); False when it does not parse."""
        try:
            query = parse_query(text)
        except QuerySyntaxError:
            return False
        self.filter_text = text
        self.query_one(FilterBar).close(text)
        self.tickets.set_query(query, probe="filter")
        return True

    # ------------------------------------------------------------ sidebar counts

    @work(thread=True, exclusive=True, group="sidebar")
    def refresh_counts(self) -> None:
        app = self.console
        db = app.store.db()
        counts = sidebar_counts(db, me=app.me, now=app.clock(), include_saved=True)
        self.post_message(SidebarCounts(counts))

    def on_sidebar_counts(self, message: SidebarCounts) -> None:
        views = [(name, query) for name, query, _ in message.counts]
        if views != self.views:
            self.views = views
        self.query_one(Sidebar).set_views(self.views, {n: c for n, _, c in message.counts})

    # ------------------------------------------------------------ cursor, preview, open

    def on_cursor_moved(self, message: CursorMoved) -> None:
        row = message.row
        if not self._counts_started:
            self._counts_started = True
            self.call_after_refresh(self.refresh_counts)
            self.set_timer(BOARD_WARMUP_DELAY, self._prepare_board)  # after the counts
        if self._preview_timer is not None:
            self._preview_timer.stop()
        if row is None:
            self.query_one(PreviewPane).show(self.console.tr, None, None, 0)
            return
        if row.id == self._preview_for:
            return
        self._preview_timer = self.set_timer(PREVIEW_DELAY, lambda: self._load_preview(row.id))

    @work(thread=True, exclusive=True, group="preview")
    def _load_preview(self, ticket_id: int) -> None:
        found = latest_message(self.console.store.db(), ticket_id)
        if found is None:
            self.post_message(PreviewLoaded(ticket_id, None, None, None))
        else:
            body, author, kind, length = found
            self.post_message(PreviewLoaded(ticket_id, body, author, kind, length))

    def on_preview_loaded(self, message: PreviewLoaded) -> None:
        current = self.tickets.current()
        if current is None or current.id != message.ticket_id:
            return
        self._preview_for = message.ticket_id
        pane = self.query_one(PreviewPane)
        pane.show(self.console.tr, message.body, message.author, message.length)

    def on_open_ticket(self, message: OpenTicket) -> None:
        self.console.open_ticket(message.ticket_id)

    def _supervises(self) -> bool:
        from agentcli.store.workload import agent_role

        app = self.console
        return agent_role(app.main_db(), app.me or "") in ("supervisor", "admin")

    def action_supervisor(self) -> None:
        """The supervisor board, with the marked tickets to move (supervisors and admins; the
        server enforces the role on every move anyway)."""
        from agentcli.tui.screens.supervisor import open_board

        if not self._supervises():
            self.notice(self.console.tr("sup.only"), error=True)
            return
        open_board(self.console, list(self.tickets.marked))

    def _prepare_board(self) -> None:
        """Supervisors: read the board once in the background, so the first `S` is instant."""
        if self._supervises():
            from agentcli.tui.screens.supervisor import prepare_board

            prepare_board(self.console)

    def action_metrics(self) -> None:
        from agentcli.tui.screens.metrics import MetricsScreen

        self.console.push_screen(MetricsScreen())

    def after_sync(self) -> None:
        """The background sync brought changes: re-read the visible page, the counts and the
        preview; marks and the cursor position stay."""
        self.tickets.reload()
        self._preview_for = None
        current = self.tickets.current()
        if current is not None:
            self._load_preview(current.id)
        self.refresh_counts()

    def on_screen_resume(self) -> None:
        self.console.announce(None)  # back from a ticket: no longer on it

    def after_change(self) -> None:
        """Mutations were queued: re-read the list and counts (the cursor stays)."""
        self.tickets.marked.clear()
        self.tickets.reload()
        self._preview_for = None
        self.refresh_counts()


def initial_views(db) -> list:  # type: ignore[no-untyped-def]
    return [*builtin_views(db), *list_views(db)]
