"""The inbox list: a Line API `ScrollView` over any number of tickets.

Only visible lines are rendered (`render_line`); rows come from keyset pages read by a
`PageReader` thread on its own warm SQLite connection into a small LRU (`RowCache`). A row not
yet loaded paints as a dim placeholder and its page is requested; nothing ever loads the
whole list, so 1,000,000 tickets cost what 1,000 do.

For the benchmark, every key that moves or reloads the list starts a paint probe, closed in
`render_lines` once every visible row is real: `on_paint(label, seconds)` gets the time from
the key event to that paint.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import work
from textual.events import Resize
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from agentcli.domain.query import InboxQuery
from agentcli.store.inbox import InboxRow, count_query
from agentcli.tui.data import StoreAccess
from agentcli.tui.keymap import LIST_BINDINGS
from agentcli.tui.messages import CountLoaded, CursorMoved, ListError, OpenTicket, RowsLoaded
from agentcli.tui.page_reader import PageReader, PageRequest
from agentcli.tui.paging import PAGE_ROWS, RowCache
from agentcli.tui.widgets.columns import Translate, row_segments, widths

PaintHook = Callable[[str, float], None]
_PLACEHOLDER = Style(dim=True)
PREFETCH = PAGE_ROWS // 2  # rows beyond the visible ones to have ready for the next keys


class TicketList(ScrollView, can_focus=True):
    BINDINGS = LIST_BINDINGS
    COMPONENT_CLASSES: ClassVar[set[str]] = {"ticket-list--cursor", "ticket-list--marked"}
    DEFAULT_CSS = """
    TicketList { height: 1fr; }
    TicketList > .ticket-list--cursor { background: $accent 40%; text-style: bold; }
    TicketList:focus > .ticket-list--cursor { background: $accent 70%; }
    """

    def __init__(
        self,
        store: StoreAccess,
        *,
        me: str | None,
        tr: Translate,
        clock: Callable[[], int],
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.store = store
        self.me = me
        self.tr = tr
        self.clock = clock
        self.query_: InboxQuery = InboxQuery()
        self.generation = 0
        self.cache = RowCache()
        self._stale: RowCache | None = None  # the last rows, painted while a reload reads
        self.cursor = 0
        self.marked: dict[int, int | None] = {}  # ticket id -> version seen when marked
        self.now = clock()
        self._inflight: set[tuple[int, bool]] = set()
        self._cells: list[int] = widths(80)
        self.on_paint: PaintHook | None = None
        # Called with the generation when a page (or its error) arrives, before the frame
        # that shows it: the screen changes what goes with the rows in that same frame.
        self.on_rows: Callable[[int], None] | None = None
        self.key_time: Callable[[], float | None] = lambda: None
        self._probe: tuple[str, float] | None = None
        self.error: str | None = None
        # Counts run after the page they belong to has painted, one per generation; a count
        # still running for an older query is interrupted (at 1M rows an unindexed count
        # costs ~1 s of CPU that the new query's page would otherwise share).
        self._counted = -1
        self._counting: dict[int, sqlite3.Connection] = {}
        self._counting_lock = threading.Lock()
        self.reader = PageReader(store, me, self.post_message)

    def on_mount(self) -> None:
        self.reader.start()

    def on_unmount(self) -> None:
        self.reader.stop()

    # ------------------------------------------------------------ queries

    def set_query(self, query: InboxQuery, probe: str | None = None) -> None:
        """Show `query` from its first row (a new generation drops older answers)."""
        self.query_ = query
        self.generation += 1
        self.cache = RowCache()
        self._stale = None
        self._inflight.clear()
        self.cursor = 0
        self.now = self.clock()
        self.error = None
        if self.scroll_y:
            self.scroll_to(y=0, animate=False, immediate=True)
        if probe:
            self.start_probe(probe)
        self._interrupt_counts()
        self._request(0)
        # No refresh or resize here: the next frame is the one with the new rows (a frame of
        # placeholders first costs a full compositor pass, ~25 ms here, before the real one).

    def reload(self) -> None:
        """Re-read the same query after a change, keeping the cursor where it was.

        Only the visible page is read again (plus the count); until it arrives the old rows
        keep painting, so a sync landing every second never flashes placeholders, and the old
        total keeps the scroll position from collapsing while the count runs."""
        cursor = self.cursor
        self.generation += 1
        self._stale = self.cache
        self.cache = RowCache()
        self.cache.total = self._stale.total
        self._inflight.clear()
        self.now = self.clock()
        self._interrupt_counts()
        self.cursor = cursor
        self._request(self._top())
        self.refresh()

    @property
    def total(self) -> int | None:
        return self.cache.total

    def current(self) -> InboxRow | None:
        return self.cache.peek(self.cursor)

    # ------------------------------------------------------------ workers

    def _start_count(self) -> None:
        """Count this generation's rows, once, after its first page has painted."""
        if self._counted == self.generation or self.cache.total is not None:
            return
        self._counted = self.generation
        self._count(self.generation, self.query_, self.now)

    def _interrupt_counts(self) -> None:
        with self._counting_lock:
            for generation, conn in self._counting.items():
                if generation != self.generation:
                    conn.interrupt()  # thread-safe; a no-op once its statement is done

    @work(thread=True, group="count")
    def _count(self, generation: int, query: InboxQuery, now: int) -> None:
        if generation != self.generation:
            return  # superseded while queued
        db = self.store.db()
        with self._counting_lock:
            self._counting[generation] = db.conn
        try:
            total = count_query(db, query, me=self.me, now=now)
        except sqlite3.OperationalError as error:
            if generation == self.generation:  # not our own interrupt: a real failure
                self.post_message(ListError(generation, str(error)))
            return
        except Exception as error:  # a bad query must not kill the app: show it
            self.post_message(ListError(generation, str(error)))
            return
        finally:
            with self._counting_lock:
                self._counting.pop(generation, None)
        self.post_message(CountLoaded(generation, total))

    def _request(self, index: int) -> None:
        if index < 0 or (self.total is not None and index >= self.total) or index in self.cache:
            return
        fetch = self.cache.plan(index)
        token = (fetch.start, fetch.backward)
        if token in self._inflight:
            return
        self._inflight.add(token)
        count_first = fetch.backward and fetch.after is None and self.cache.total is None
        self.reader.ask(PageRequest(self.generation, self.query_, fetch, self.now, count_first))

    def on_rows_loaded(self, message: RowsLoaded) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self._inflight.discard((message.start, message.backward))
        if message.total is not None:
            self.cache.total = message.total
        self.cache.put(
            message.start, message.rows, backward=message.backward, at_end=message.at_end
        )
        if message.at_end and not message.rows and not message.backward:
            self.cache.total = message.start
        if self.cache.total is None:
            # Uncounted: a new scroll extent costs a layout pass of the whole screen (~10 ms
            # here) before these rows could paint; set it after they have (the count will
            # set it again anyway).
            self.call_after_refresh(self._sync_size)
        else:
            self._sync_size()
        self.refresh()
        if self.on_rows is not None:
            self.on_rows(message.generation)
        if self.cache.total is None:
            # The page paints first; the count (only needed for the scrollbar and G) after.
            self.call_after_refresh(self._start_count)
        if self.cache.peek(self.cursor) is not None:
            self._announce()

    def on_count_loaded(self, message: CountLoaded) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.cache.total = message.total
        if not len(self.cache) and message.total:
            return  # the rows' arrival resizes and paints once; no placeholder frame first
        self._sync_size()
        self.refresh()
        if message.total == 0:
            self._announce()

    def on_list_error(self, message: ListError) -> None:
        message.stop()
        if message.generation == self.generation:
            self.error = message.error
            self.refresh()
            if self.on_rows is not None:
                self.on_rows(message.generation)

    def _sync_size(self) -> None:
        total = self.cache.total
        height = total if total is not None else len(self.cache)
        self.virtual_size = Size(self.size.width, height)

    # ------------------------------------------------------------ painting

    def on_resize(self, event: Resize) -> None:
        self._cells = widths(event.size.width)
        self._sync_size()

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_y) + y
        width = self.size.width
        total = self.total
        if total is not None and index >= total:
            if index == 0 and total == 0:
                return Strip([Segment(self.tr("list.empty"), _PLACEHOLDER)]).adjust_cell_length(
                    width
                )
            return Strip.blank(width)
        row = self.cache.get(index)
        if row is None and self._stale is not None:
            row = self._stale.peek(index)
        if row is None:
            if self.error and index == 0:
                return Strip([Segment(self.error, Style(color="red"))]).adjust_cell_length(width)
            text = self.tr("list.loading") if total is not None or index == 0 else ""
            return Strip([Segment(text, _PLACEHOLDER)]).adjust_cell_length(width)
        segments = row_segments(row, self._cells, self.now, row.id in self.marked)
        if index == self.cursor:
            style = self.get_component_rich_style("ticket-list--cursor")
            segments = list(Segment.apply_style(segments, post_style=style))
        return Strip(segments).adjust_cell_length(width)

    def render_lines(self, crop: Region) -> list[Strip]:
        lines = super().render_lines(crop)
        top, height = self._top(), self.size.height
        missing = [i for i in range(top, top + height) if self._missing(i)]
        if missing:
            self._request(missing[0])
            self._request(missing[-1])
        else:
            self._finish_probe()
            # Warm the next page either way, so held keys rarely meet a placeholder.
            self._request(top + height + PREFETCH)
            self._request(top - PREFETCH)
        return lines

    def _missing(self, index: int) -> bool:
        total = self.total
        if total is None:
            return index not in self.cache and index <= len(self.cache)
        return index < total and index not in self.cache

    def _top(self) -> int:
        return int(self.scroll_y)

    # ------------------------------------------------------------ probes (benchmark)

    def start_probe(self, label: str) -> None:
        started = self.key_time() or time.perf_counter()
        self._probe = (label, started)

    def _finish_probe(self) -> None:
        if self._probe is None or (self.total is None and not len(self.cache)):
            return
        label, started = self._probe
        self._probe = None
        if self.on_paint is not None:
            self.on_paint(label, time.perf_counter() - started)

    # ------------------------------------------------------------ cursor

    def move_to(self, index: int, probe: str | None = None) -> None:
        total = self.total
        if total is not None:
            index = min(index, total - 1)
        index = max(index, 0)
        if probe:
            self.start_probe(probe)
        old = self.cursor
        self.cursor = index
        height = max(self.size.height, 1)
        top = self._top()
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
            self.refresh()
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)
            self.refresh()
        else:
            self.refresh_line(old)
            self.refresh_line(index)
        self._request(index)
        self._announce()

    def _announce(self) -> None:
        self.post_message(CursorMoved(self.cache.peek(self.cursor), self.cursor))

    def action_cursor_down(self) -> None:
        self.move_to(self.cursor + 1, "j")

    def action_cursor_up(self) -> None:
        self.move_to(self.cursor - 1, "k")

    def action_top(self) -> None:
        self.move_to(0, "g")

    def action_bottom(self) -> None:
        if self.total is None:
            # Not counted yet: read the last page backward from the end (the worker counts).
            self.start_probe("G")
            self._fetch_end()
            return
        self.move_to(self.total - 1, "G")

    @work(thread=True, group="count")
    def _fetch_end(self) -> None:
        generation = self.generation
        total = count_query(self.store.db(), self.query_, me=self.me, now=self.now)
        self.post_message(CountLoaded(generation, total))
        self.app.call_from_thread(self.move_to, total - 1)

    def action_half_down(self) -> None:
        self.move_to(self.cursor + max(self.size.height // 2, 1), "ctrl+d")

    def action_half_up(self) -> None:
        self.move_to(self.cursor - max(self.size.height // 2, 1), "ctrl+u")

    def action_page_down(self) -> None:
        step = max(self.size.height, 1)
        self.scroll_to(y=self._top() + step, animate=False, immediate=True)
        self.move_to(self.cursor + step, "pagedown")

    def action_page_up(self) -> None:
        step = max(self.size.height, 1)
        self.scroll_to(y=max(self._top() - step, 0), animate=False, immediate=True)
        self.move_to(self.cursor - step, "pageup")

    def action_open(self) -> None:
        row = self.current()
        if row is not None:
            self.post_message(OpenTicket(row.id))

    def action_mark(self) -> None:
        row = self.current()
        if row is None:
            return
        if row.id in self.marked:
            del self.marked[row.id]
        else:
            self.marked[row.id] = row.version
        self.move_to(self.cursor + 1)
        self.refresh()

    def targets(self) -> list[tuple[int, int | None]]:
        """(ticket id, version seen) to act on: every marked ticket, else the cursor's."""
        if self.marked:
            return list(self.marked.items())
        row = self.current()
        return [(row.id, row.version)] if row else []

    def neighbour(self, ticket_id: int, step: int) -> int | None:
        """The ticket `step` rows from `ticket_id` (moving the cursor there), if loaded."""
        index = self.cache.index_of(ticket_id)
        if index is None:
            return None
        target = index + step
        if target < 0 or (self.total is not None and target >= self.total):
            return None
        self.move_to(target)
        row = self.cache.peek(target)
        return row.id if row else None
