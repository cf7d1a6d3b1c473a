"""Waiting for a Textual app to settle: workers done, messages processed, screen painted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from agentcli.tui.screens.ticket import TicketScreen
from agentcli.tui.widgets.ticket_list import TicketList


async def settle(pilot: Pilot, rounds: int = 3) -> None:
    """Let every worker finish and every posted message land, a few times over (a worker's
    answer may start another worker)."""
    app = pilot.app
    for _ in range(rounds):
        for worker in list(app.workers):
            # A cancelled worker was superseded by a newer one in its exclusive group.
            with contextlib.suppress(WorkerCancelled):
                await worker.wait()
        await pilot.pause()


async def wait_for(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            try:
                shown = screen_text(pilot.app)
            except Exception as error:  # the screen itself may be what failed
                shown = f"(no screen: {error})"
            raise AssertionError(f"timed out waiting for {condition}; screen:\n{shown}")
        await pilot.pause(0.02)


async def open_ticket(pilot: Pilot) -> None:
    """Press enter on the list's cursor row and wait for the ticket view to settle."""
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TicketScreen))
    await settle(pilot)


def visible_rows(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The ticket list's visible lines as plain text."""
    tickets = app.screen.query_one(TicketList)
    return [tickets.render_line(y).text for y in range(tickets.size.height)]


def screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """Every line of the current screen as plain text (what a terminal would show)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def burst(pilot: Pilot, *keys: str) -> None:
    """Deliver keys the way a terminal does when they are typed faster than the app handles
    them (a fast typist, tmux send-keys, a paste): all queued at once, none awaited.
    Single characters are typed text; longer names are keys (enter, ctrl+u, escape)."""
    driver = pilot.app._driver
    assert driver is not None
    for key in keys:
        if len(key) == 1:
            event = events.Key(key if key.isalnum() else _character_to_key(key), key)
        else:
            event = events.Key(key, None)
        event.set_sender(pilot.app)
        driver.send_message(event)
