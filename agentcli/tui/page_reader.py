"""One thread, one warm connection, reading the inbox list's pages in the order asked.

Thread-pool workers each open their own connection the first time they run: ~30 ms to open a
1,000,000-ticket store and a few cold page reads after it (~10 ms, then ~5, then ~1), paid
again whenever the pool grows while counts hold its threads. A view switch then waited 40-300
ms for a page that takes ~1 ms on a warm connection. This reader keeps one connection warm
for pages; counts stay in workers, where a slow one cannot hold up a page (except the count
`G` needs before the list's last page, which that page must wait for anyway).
"""

from __future__ import annotations

import queue
import sqlite3
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from agentcli.domain.query import InboxQuery
from agentcli.store.inbox import Db, count_query
from agentcli.tui.data import StoreAccess
from agentcli.tui.messages import ListError, RowsLoaded
from agentcli.tui.paging import Fetch, read

STOP_WAIT = 2.0  # seconds; an interrupted read ends in milliseconds


@dataclass(frozen=True, slots=True)
class PageRequest:
    generation: int
    query: InboxQuery
    fetch: Fetch
    now: int
    # `G` before the list is counted: count first, then read the last page backward.
    count_first: bool = False


class PageReader:
    """Reads requested pages on its own thread and hands each answer to `deliver` (which
    must be thread-safe, e.g. a widget's post_message). Answers for a generation older than
    the newest one asked for are skipped, and a read still running for one is interrupted."""

    def __init__(
        self,
        store: StoreAccess,
        me: str | None,
        deliver: Callable[[RowsLoaded | ListError], object],
    ) -> None:
        self.store, self.me, self.deliver = store, me, deliver
        self._requests: queue.SimpleQueue[PageRequest | None] = queue.SimpleQueue()
        self._newest = 0
        self._reading: int | None = None  # the generation being read now
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="inbox-pages", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Interrupt a read in progress and end the thread (waiting a moment for it: its
        connection may only be closed once it is out of SQLite)."""
        with self._lock:
            self._newest = sys.maxsize  # whatever is queued is stale now
            if self._reading is not None and self._conn is not None:
                self._conn.interrupt()
        self._requests.put(None)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=STOP_WAIT)

    def ask(self, request: PageRequest) -> None:
        with self._lock:
            if request.generation > self._newest:
                self._newest = request.generation
                if self._reading is not None and self._conn is not None:
                    self._conn.interrupt()  # an older query's read: nobody will see it
        self._requests.put(request)

    def _run(self) -> None:
        while (request := self._requests.get()) is not None:
            with self._lock:
                if request.generation < self._newest:
                    continue
                self._reading = request.generation
            try:
                db = self.store.db()  # opened once, on this thread; an error is shown
                self._conn = db.conn
                self.deliver(self._read(db, request))
            except sqlite3.OperationalError as error:
                if request.generation == self._newest:  # not our own interrupt
                    self.deliver(ListError(request.generation, str(error)))
            except Exception as error:  # a bad query must not kill the app: show it
                self.deliver(ListError(request.generation, str(error)))
            finally:
                with self._lock:
                    self._reading = None

    def _read(self, db: Db, request: PageRequest) -> RowsLoaded:
        fetch, total = request.fetch, None
        if request.count_first:
            total = count_query(db, request.query, me=self.me, now=request.now)
            fetch = Fetch(total - 1, True, None, fetch.limit, fetch.offset)
        rows, at_end = read(db, request.query, fetch, me=self.me, now=request.now)
        return RowsLoaded(request.generation, fetch.start, fetch.backward, rows, at_end, total)
