"""Live events for SSE clients: new-seq nudges and presence, in every server process.

Each process runs one poller that reads the newest change-log seq and new presence rows
(about every 100 ms, one indexed query each) and fans them out to its own SSE subscribers.
Polling the shared database is what makes several `serve` processes on one PostgreSQL nudge
all their clients, with one code path on SQLite too. A push in this process nudges its
clients at once with the seq it committed (`changed`), and other writes wake the poller
(`poke`), so local clients never wait for the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import anyio
from sqlalchemy import Engine, delete, func, select

from agentcli.domain.clock import now_epoch
from agentcli.server.changelog import last_seq
from agentcli.server.db import read_tx, write_tx
from agentcli.server.schema import presence

POLL_SECONDS = 0.1
PRESENCE_TTL = 60  # seconds a presence row is kept; clients re-post while still there
QUEUE_LIMIT = 1000  # a client this far behind is disconnected (it will resync from its seq)


def record_presence(engine: Engine, agent: str, ticket_id: int, activity: str) -> None:
    with write_tx(engine) as conn:
        conn.execute(delete(presence).where(presence.c.at < now_epoch() - PRESENCE_TTL))
        conn.execute(
            presence.insert().values(
                agent=agent, ticket_id=ticket_id, activity=activity, at=now_epoch()
            )
        )


def current_presence(engine: Engine) -> list[dict[str, Any]]:
    """Each agent's latest presence of the last PRESENCE_TTL seconds, by agent."""
    with read_tx(engine) as conn:
        rows = conn.execute(
            select(presence.c.agent, presence.c.ticket_id, presence.c.activity, presence.c.at)
            .where(presence.c.at >= now_epoch() - PRESENCE_TTL)
            .order_by(presence.c.id)
        ).mappings()
        latest = {row["agent"]: dict(row) for row in rows}  # later rows win
    return [latest[agent] for agent in sorted(latest)]


def format_event(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class Subscriber:
    """One SSE client's undelivered events: the newest `changes` nudge only (a client behind
    needs just the latest seq, so a busy server sends fewer, not later, nudges) and every
    presence event in order. All of it goes out as one chunk when the client's stream runs.
    """

    def __init__(self) -> None:
        self._seq: int | None = None
        self._presence: list[str] = []
        self._ready = asyncio.Event()
        self._closed = False

    def nudge(self, seq: int) -> None:
        self._seq = seq
        self._ready.set()

    def add(self, message: str) -> bool:
        """Queue a presence event; False when the client is too far behind to keep."""
        if len(self._presence) >= QUEUE_LIMIT:
            return False
        self._presence.append(message)
        self._ready.set()
        return True

    def close(self) -> None:
        self._closed = True
        self._ready.set()

    async def next(self, idle: float) -> str | None:
        """The pending events as one chunk ("" after `idle` seconds with none), None once
        closed. `asyncio.timeout`, not `wait_for`: no task created per event.
        """
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(idle):
                await self._ready.wait()
        if self._closed:
            return None
        self._ready.clear()
        chunk = "" if self._seq is None else format_event("changes", {"seq": self._seq})
        chunk += "".join(self._presence)
        self._seq, self._presence = None, []
        return chunk


class EventHub:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.subscribers: set[Subscriber] = set()
        self.seq = 0
        self.presence_id = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.seq, self.presence_id = await anyio.to_thread.run_sync(self._read_cursors)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for subscriber in list(self.subscribers):
            subscriber.close()

    def poke(self) -> None:
        """Wake the poller now (thread-safe: called from request threads after a write)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def changed(self, seq: int) -> None:
        """Nudge this process's clients now about a committed change up to `seq` (thread-safe),
        without waiting for the poller's database read.
        """
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._nudge, seq)

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber()
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def _read_cursors(self) -> tuple[int, int]:
        with read_tx(self.engine) as conn:
            top = conn.execute(select(func.coalesce(func.max(presence.c.id), 0))).scalar_one()
            return last_seq(conn), top

    def _read_new(self) -> tuple[int, list[dict[str, Any]]]:
        with read_tx(self.engine) as conn:
            rows = conn.execute(
                select(presence).where(presence.c.id > self.presence_id).order_by(presence.c.id)
            ).mappings()
            return last_seq(conn), [dict(row) for row in rows]

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            try:
                seq, rows = await anyio.to_thread.run_sync(self._read_new)
            except Exception:  # a database blip must not kill live events; retry next tick
                continue
            self._nudge(seq)
            for row in rows:
                self.presence_id = max(self.presence_id, row["id"])
                data = {k: row[k] for k in ("agent", "ticket_id", "activity", "at")}
                message = format_event("presence", data)
                for subscriber in list(self.subscribers):
                    if not subscriber.add(message):
                        self.subscribers.discard(subscriber)  # too slow: it resyncs by seq
                        subscriber.close()

    def _nudge(self, seq: int) -> None:
        if seq <= self.seq:
            return
        self.seq = seq
        for subscriber in self.subscribers:
            subscriber.nudge(seq)
