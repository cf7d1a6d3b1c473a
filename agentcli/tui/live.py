"""Live sync inside the console: the sync engine in background threads, presence both ways.

`LiveSync` runs `agentcli.sync.live.SyncWorker` (engine loop on its own thread and SQLite
connection) with its own event follower instead of the worker's: the console needs the SSE
`presence` events too, and one stream serves both (a second connection would double the
server's fan-out). Nothing here runs on Textual's event loop: the app learns of each sync
cycle through `listener`, called on the engine thread (the app posts itself a message from
there), and polls `sync_status` from a thread worker once a second.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from agentcli.sync.client import Client, SyncError
from agentcli.sync.credentials import Credentials
from agentcli.sync.engine import SyncConfig, SyncReport, backoff_delay
from agentcli.sync.live import SyncWorker
from agentcli.sync.status import last_synced, read_status
from agentcli.tui.syncstatus import SyncStatus

log = logging.getLogger("agentcli.tui.live")

# The server forgets a presence row after 60 s; re-post well inside that, and forget another
# agent's presence a little after their last re-post would have come.
PRESENCE_REPOST = 20.0
PRESENCE_TTL = 45.0

# (pulled, pushed, error) after each engine cycle, on the engine's thread.
Listener = Callable[[int, int, BaseException | None], None]


@dataclass(slots=True)
class Presence:
    agent: str
    ticket_id: int
    activity: str
    seen: float  # time.monotonic() of the last event


class LiveSync:
    """Background sync and presence for one store and one account."""

    def __init__(
        self,
        db_path: str | Path,
        creds: Credentials,
        config: SyncConfig | None = None,
    ) -> None:
        self.creds = creds
        self.config = config or SyncConfig()
        self.listener: Listener | None = None
        self.worker = SyncWorker(
            db_path, self._client, self.config, live=False, on_cycle=self._cycle
        )
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._presence: dict[str, Presence] = {}  # by agent: one ticket each at a time
        self._syncing = True  # until the first cycle ends
        self._announce: queue.Queue[tuple[int, str] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._clients: list[Client] = []

    @property
    def me(self) -> str:
        return self.creds.login

    @property
    def syncing(self) -> bool:
        """A sync cycle is under way (or the first has not ended yet)."""
        return self._syncing

    def _client(self) -> Client:
        return Client(self.creds.server, self.creds.token, insecure=self.creds.insecure)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        self.worker.start()
        for target, name in ((self._follow, "agentcli-events"), (self._post, "agentcli-presence")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._announce.put(None)
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            client.close()  # ends a blocked event-stream read
        self.worker.stop(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=timeout)

    def nudge(self) -> None:
        """Sync now: a local change is in the outbox (push it at once) or the server has news."""
        self._syncing = True
        self.worker.nudge()

    def _cycle(self, report: SyncReport | None, error: BaseException | None) -> None:
        self._syncing = False
        if self.listener is not None:
            pulled = report.pulled if report else 0
            pushed = report.pushed if report else 0
            self.listener(pulled, pushed, error)

    # ------------------------------------------------------------ events (SSE)

    def _follow(self) -> None:
        """Like agentcli.sync.live.follow, plus presence: nudge on hello/changes, remember
        other agents' presence, reconnect with backoff until stopped."""
        client = self._client()
        with self._lock:
            self._clients.append(client)
        attempt = 0
        try:
            while not self._stop.is_set():
                try:
                    for event, data in client.events():
                        attempt = 0
                        if self._stop.is_set():
                            return
                        if event in ("hello", "changes"):
                            self.nudge()
                        elif event == "presence":
                            self._saw(data)
                except SyncError as error:
                    if not error.retryable:
                        log.error("event stream stopped: %s", error)
                        return
                    log.info("event stream dropped: %s", error)
                except RuntimeError:  # the client was closed under us by stop()
                    return
                self._stop.wait(backoff_delay(attempt, self.config))
                attempt += 1
        finally:
            client.close()

    def _saw(self, data: dict[str, object]) -> None:
        agent, ticket_id, activity = data.get("agent"), data.get("ticket_id"), data.get("activity")
        if not isinstance(agent, str) or not isinstance(ticket_id, int) or agent == self.me:
            return
        if activity not in ("viewing", "replying"):
            return
        with self._lock:
            self._presence[agent] = Presence(agent, ticket_id, activity, time.monotonic())
        if self.listener is not None:
            self.listener(0, 0, None)  # repaint the status line now, not at the next poll

    def others(self, ticket_id: int | None) -> list[Presence]:
        """Other agents seen on `ticket_id` within the TTL (replying first)."""
        if ticket_id is None:
            return []
        horizon = time.monotonic() - PRESENCE_TTL
        with self._lock:
            for agent in [a for a, p in self._presence.items() if p.seen < horizon]:
                del self._presence[agent]
            found = [p for p in self._presence.values() if p.ticket_id == ticket_id]
        return sorted(found, key=lambda p: (p.activity != "replying", p.agent))

    def present(self) -> dict[str, Presence]:
        """Every other agent seen within the TTL, by login (the supervisor board's column)."""
        horizon = time.monotonic() - PRESENCE_TTL
        with self._lock:
            return {agent: p for agent, p in self._presence.items() if p.seen >= horizon}

    # ------------------------------------------------------------ our own presence

    def announce(self, ticket_id: int | None, activity: str = "viewing") -> None:
        """This agent is on `ticket_id` now (None: on no ticket). Never blocks: a thread posts
        it, and re-posts every PRESENCE_REPOST seconds while it stays true."""
        self._announce.put(None if ticket_id is None else (ticket_id, activity))

    def _post(self) -> None:
        client = self._client()
        with self._lock:
            self._clients.append(client)
        current: tuple[int, str] | None = None
        try:
            while not self._stop.is_set():
                try:
                    current = self._announce.get(timeout=PRESENCE_REPOST)
                    while not self._announce.empty():  # only the newest matters
                        current = self._announce.get_nowait()
                except queue.Empty:
                    pass  # time to re-post what is still true
                if self._stop.is_set():
                    return
                if current is None:
                    continue
                try:
                    client.presence(*current)
                except (SyncError, RuntimeError) as error:  # best effort: sync goes on
                    log.info("presence not posted: %s", error)
        finally:
            client.close()

    # ------------------------------------------------------------ status line

    def sync_status(self, db: sqlite_utils.Database, ticket_id: int | None) -> SyncStatus:
        status = read_status(db)
        if self._syncing and self.worker.running:
            state = "syncing"
        else:
            state = "online" if status["online"] and self.worker.running else "offline"
        return SyncStatus(
            state,
            last_synced(db),
            status["conflicts"],
            tuple(f"{p.agent}:{p.activity}" for p in self.others(ticket_id)),
            agent=status["agent"] or self.me,
            rejected=status["rejected"],
            error=status["last_error"] if state == "offline" else None,
        )


def live_for(db: sqlite_utils.Database, db_path: Path) -> LiveSync | None:
    """A LiveSync when this store belongs to the logged-in account, else None (local only).

    A store already synced with another server must not receive this account's changes."""
    from agentcli.sync import credentials

    found = credentials.load()
    if found is None:
        return None
    row = db.conn.execute("SELECT value FROM sync_state WHERE key = 'server'").fetchone()
    if row is not None and row[0].rstrip("/") != found.server.rstrip("/"):
        log.warning("store is bound to %s, not %s: console stays local", row[0], found.server)
        return None
    return LiveSync(db_path, found)
