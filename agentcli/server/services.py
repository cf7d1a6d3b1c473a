"""Background services that live as long as the app: periodic tasks and listeners.

Each runs in every server process; anything they write goes through `db.write_tx`, so
several processes on one database do each piece of work once (see the individual tasks).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

import anyio

log = logging.getLogger("agentcli.server")

Poke = Callable[[], None]  # wakes the SSE hub after a write


class Background(Protocol):
    async def start(self, poke: Poke) -> None: ...

    async def stop(self) -> None: ...


class Periodic:
    """Run `work()` (blocking; returns how many things it did) in a thread every `every` s."""

    def __init__(self, name: str, work: Callable[[], int], every: float) -> None:
        self.name, self.work, self.every = name, work, every
        self._task: asyncio.Task[None] | None = None
        self._poke: Poke | None = None

    async def start(self, poke: Poke) -> None:
        self._poke = poke
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                done = await anyio.to_thread.run_sync(self.work)
            except Exception:  # a database blip must not end the task; try next round
                log.exception("%s failed", self.name)
                done = 0
            if done and self._poke is not None:
                self._poke()
            await asyncio.sleep(self.every)
