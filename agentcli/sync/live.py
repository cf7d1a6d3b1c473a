"""Live sync: follow the server's SSE stream and pull on each nudge; the TUI's background worker.

`SyncWorker` owns two daemon threads: the engine loop (which opens its own SQLite connection,
since a connection belongs to one thread) and the event follower (which only sets a flag).
The TUI calls `start()`, `nudge()` after a local change, and `stop()`; it learns of each
cycle through `on_cycle`, called on the worker thread (post a message to the app from there:
Textual's `post_message` is thread-safe). Nothing here ever blocks the caller's event loop.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from pathlib import Path

from agentcli.store.db import open_store
from agentcli.sync.client import Client, SyncError
from agentcli.sync.engine import Engine, SyncConfig, SyncReport, backoff_delay, run_loop

log = logging.getLogger("agentcli.sync")

ClientFactory = Callable[[], Client]
OnCycle = Callable[[SyncReport | None, BaseException | None], None]


def follow(
    client: Client,
    nudge: Callable[[], None],
    stop: threading.Event,
    config: SyncConfig | None = None,
) -> None:
    """Nudge on the stream's hello (to catch up after a reconnect) and on every `changes`
    event; reconnect with backoff when the stream drops, until `stop`."""
    config = config or SyncConfig()
    attempt = 0
    while not stop.is_set():
        try:
            for event, _data in client.events():
                attempt = 0
                if stop.is_set():
                    return
                if event in ("hello", "changes"):
                    nudge()
        except SyncError as error:
            if not error.retryable:
                log.error("event stream stopped: %s", error)
                return
            log.info("event stream dropped: %s", error)
        stop.wait(backoff_delay(attempt, config))
        attempt += 1


class SyncWorker:
    """Background sync against one store file: engine loop + live follower."""

    def __init__(
        self,
        db_path: str | Path,
        client_factory: ClientFactory,
        config: SyncConfig | None = None,
        *,
        live: bool = True,
        on_cycle: OnCycle | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.client_factory = client_factory
        self.config = config or SyncConfig()
        self.live = live
        self.on_cycle = on_cycle
        self._stop = threading.Event()
        self._nudge = threading.Event()
        self._threads: list[threading.Thread] = []
        self._clients: list[Client] = []

    def start(self) -> None:
        loop = threading.Thread(target=self._run, name="agentcli-sync", daemon=True)
        self._threads.append(loop)
        loop.start()
        if self.live:
            client = self.client_factory()
            self._clients.append(client)
            follower = threading.Thread(
                target=follow,
                args=(client, self.nudge, self._stop, self.config),
                name="agentcli-live",
                daemon=True,
            )
            self._threads.append(follower)
            follower.start()

    def nudge(self) -> None:
        """Sync now (a local change was queued, or the server announced new changes)."""
        self._nudge.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._nudge.set()
        for client in self._clients:
            client.close()  # ends a blocked event-stream read
        for thread in self._threads:
            thread.join(timeout=timeout)

    @property
    def running(self) -> bool:
        return any(thread.is_alive() for thread in self._threads)

    def _run(self) -> None:
        db = open_store(self.db_path)
        client = self.client_factory()
        try:
            # Stopping ends a long pull between two transactions: quitting never waits for it.
            engine = Engine(db, client, self.config, cancel=self._stop)
            run_loop(engine, self._stop, self._nudge, on_cycle=self.on_cycle, rng=random.Random())
        finally:
            client.close()
            db.conn.close()
