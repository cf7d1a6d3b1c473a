"""Live events for SSE clients: new-seq nudges and presence, in every server process.

Each process runs one poller that reads the newest change-log seq and new presence rows
(about every 100 ms, one indexed query each) and fans them out to its own SSE subscribers.
Polling the shared database is what makes several `serve` processes on one PostgreSQL nudge
all their clients, with one code path on SQLite too; a write in this process also wakes
the poller at once so local clients hear of it without waiting for the next tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
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


def format_event(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class EventHub:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.subscribers: set[asyncio.Queue[str | None]] = set()
        self.seq = 0
        self.presence_id = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock = threading.Lock()

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
        for queue in list(self.subscribers):
            queue.put_nowait(None)

    def poke(self) -> None:
        """Wake the poller now (thread-safe: called from request threads after a write)."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    def subscribe(self) -> asyncio.Queue[str | None]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str | None]) -> None:
        self.subscribers.discard(queue)

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
            if seq > self.seq:
                self.seq = seq
                self._broadcast(format_event("changes", {"seq": seq}))
            for row in rows:
                self.presence_id = max(self.presence_id, row["id"])
                data = {k: row[k] for k in ("agent", "ticket_id", "activity", "at")}
                self._broadcast(format_event("presence", data))

    def _broadcast(self, message: str) -> None:
        for queue in list(self.subscribers):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                self.subscribers.discard(queue)  # too slow: drop it; it resyncs by seq
                with contextlib.suppress(asyncio.QueueFull):
                    queue.get_nowait()
                    queue.put_nowait(None)
