"""Fetching checked pages ahead of the store: in a thread, or for a big backlog in a child process.

A fetcher gets each page (HTTP), decodes and checks it and makes what the store needs ahead
(store.prepared), and hands it over; the store applies earlier pages meanwhile. In a thread,
the store's Python waits for the GIL the fetcher holds: a first sync's wall time was about the
client's whole CPU time. In a child process each has a core, at the cost of sending the pages
across: one marshal blob a page (~0.45 s to make, ~0.5 s to read back for 400k changes).

The child is spawned, not forked: the TUI runs the engine in a background thread, and a fork
copies locks other threads hold. Like any spawned child it imports the program's main module
first, so a script that pulls a big backlog needs the `if __name__ == "__main__":` guard
(`agentcli` and `python -m agentcli` have it). It ends after the last page, when the parent
terminates it, and when the parent dies (it watches its parent's pid: a `kill -9` of the
client leaves no orphan fetching).
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import multiprocessing.queues
import os
import pickle
import queue
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import partial
from operator import attrgetter
from typing import Protocol

from agentcli.domain.wire import Change
from agentcli.store.changes import CheckedPage
from agentcli.store.prepared import Prepared
from agentcli.sync.client import ClientSettings, SyncError

# How often the child checks that its parent is alive, and the parent that its child is.
_WATCH_INTERVAL = 0.2
# Prepared's fields in constructor order, as one tuple.
_PREPARED = attrgetter(*(field.name for field in fields(Prepared)))


@dataclass(frozen=True, slots=True)
class Fetched:
    page: CheckedPage
    more: bool


Item = Fetched | BaseException | None  # None: the fetch is done


class PageSource(Protocol):
    def checked_changes(self, after: int, limit: int) -> tuple[CheckedPage, bool]: ...


def fetch_pages(source: PageSource, after: int, limit: int, put: Callable[[Item], bool]) -> None:
    """Hand `put` each page after cursor `after` until the last, then None; or the error that
    ended the fetch. Stops early when `put` returns False."""
    try:
        cursor = after
        while True:
            checked, more = source.checked_changes(cursor, limit)
            if not put(Fetched(checked, more)) or not more:
                break
            cursor = checked.next
        put(None)
    except BaseException as error:  # handed over to the applying side, which raises it
        put(error)


class PullThread:
    """Pages fetched by a thread of this process, taken with get / get_nowait."""

    def __init__(self, source: PageSource, after: int, limit: int, ahead: int) -> None:
        self._pages: queue.Queue[Item] = queue.Queue(maxsize=ahead)
        self._stop = threading.Event()
        args = (source, after, limit, self._put)
        self._thread = threading.Thread(target=fetch_pages, args=args, name="agentcli-pull")
        self._thread.daemon = True
        self._thread.start()

    def _put(self, item: Item) -> bool:
        while not self._stop.is_set():
            try:
                self._pages.put(item, timeout=0.1)
                return not self._stop.is_set()  # no further request once the pull stops
            except queue.Full:
                continue
        return False

    def get(self) -> Item:
        return self._pages.get()

    def get_nowait(self) -> Item:
        return self._pages.get_nowait()

    def close(self) -> None:
        self._stop.set()
        while self._thread.is_alive():  # unblock a fetcher waiting on a full queue
            try:
                self._pages.get_nowait()
            except queue.Empty:
                self._thread.join(timeout=0.05)


class PullProcess:
    """Pages fetched by a spawned child process with its own Client, taken with get /
    get_nowait. close() always terminates and joins the child."""

    def __init__(self, settings: ClientSettings, after: int, limit: int, ahead: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._pages: multiprocessing.queues.Queue[Item] = context.Queue(maxsize=ahead)
        self._process = context.Process(
            target=_child,
            args=(settings, after, limit, self._pages, os.getpid()),
            name="agentcli-pull",
            daemon=True,  # ended by multiprocessing at this process's exit too
        )
        self._process.start()
        # Unpickled pages are acyclic and soon freed; collections over them cost ~0.3 s of the
        # store thread, which sets the pull's pace. Off for the pull, restored by close().
        self._collecting = gc.isenabled()
        gc.disable()

    def get(self) -> Item:
        while True:
            try:
                return _unpacked(self._pages.get(timeout=_WATCH_INTERVAL))
            except queue.Empty:
                if not self._process.is_alive():
                    break
        try:  # what it sent before it ended
            return _unpacked(self._pages.get_nowait())
        except queue.Empty:
            return SyncError(f"the pull process ended early (exit code {self._process.exitcode})")

    def get_nowait(self) -> Item:
        return _unpacked(self._pages.get_nowait())

    def close(self) -> None:
        self._process.terminate()
        self._process.join()
        self._pages.close()
        if self._collecting:
            gc.enable()


def _child(
    settings: ClientSettings,
    after: int,
    limit: int,
    pages: multiprocessing.queues.Queue[Item],
    parent: int,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's, which ends us
    # No cycle collection: the child lives for one pull, and its pages are acyclic (reference
    # counting frees them); collections over ~400k decoded changes cost ~0.5 s.
    gc.disable()
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()

    def put(item: Item) -> bool:
        # blocks while `ahead` pages wait for the store
        pages.put(_pack(item) if isinstance(item, Fetched) else _portable(item))
        return True

    try:
        client = settings.open()
    except BaseException as error:
        put(error)
        return
    with client:
        fetch_pages(client, after, limit, put)


def _pack(fetched: Fetched) -> bytes:
    """A page as one marshal blob of plain tuples, dicts and strings: it crosses to the store's
    process in a third of the CPU of pickling its Change tuples and Prepared (measured on a first
    sync's 401 pages: pickle 1.0 s to make and 2.2 s to read back, marshal 0.45 and 0.5).
    Checked pages hold only what JSON decodes to, which marshal writes as it is."""
    page = fetched.page
    changes = list(map(tuple, page.changes))
    return marshal.dumps((page.after, page.next, fetched.more, changes, _PREPARED(page.prepared)))


# A Change made in C (tuple.__new__), not by its Python __new__ or _make: ~400k in a first sync.
_change = partial(tuple.__new__, Change)


def _unpack(blob: bytes) -> Fetched:
    after, next_cursor, more, changes, prepared = marshal.loads(blob)
    page = CheckedPage(after, next_cursor, list(map(_change, changes)), Prepared(*prepared))
    return Fetched(page, more)


def _unpacked(item: bytes | Item) -> Item:
    return _unpack(item) if isinstance(item, bytes) else item


def _exit_when_orphaned(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCH_INTERVAL)
    os._exit(1)


def _portable(item: Item) -> Item:
    """An error as it can cross to the parent: itself if it pickles, else its class with its
    message alone, else a SyncError naming it (the queue would drop one that fails)."""
    if not isinstance(item, BaseException):
        return item
    for make in (lambda: item, lambda: type(item)(str(item))):
        try:
            error = make()
            pickle.loads(pickle.dumps(error))
            return error
        except Exception:  # try the next, plainer form
            continue
    return SyncError(f"{type(item).__name__}: {item}")
