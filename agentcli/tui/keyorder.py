"""Keys handled in the order they were typed, however fast they come.

Textual hands a key to the widget focused when the key arrives, but runs bindings only once
the key has bubbled back up to the App. Keys typed in a burst (a fast typist, a terminal
multiplexer's send-keys, a pasted sequence of commands) can therefore overtake each other:

- `ctrl+u` then text in an input: the text is typed first and `ctrl+u` then deletes it;
- `/` then a query in the inbox: the query's keys were already handed to the list, and run
  the screen's letter bindings instead of reaching the filter bar that `/` opened.

Two fixes, one per case: text widgets run the bindings of keys they do not type as soon as
the key reaches them (`run_bindings_now`), and the App hands a key to the newly focused text
widget when focus moved there while the key was on its way (`KeyRoutes`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from textual import events
from textual.widget import Widget
from textual.widgets import Input, TextArea

# Keys in flight at once: a burst is a few dozen at most. Older entries belong to keys a
# widget stopped (they never bubble back), so dropping them loses nothing.
_MAX_IN_FLIGHT = 256


async def run_bindings_now(widget: Widget, event: events.Key, typed: tuple[str, ...] = ()) -> bool:
    """Run the bindings for a key `widget` will not type (ctrl+u, enter, ...), now, in order
    with the characters around it. True when a binding took the key. `typed` names keys the
    widget types although they are not printable (a text area's enter)."""
    if event.key in typed or widget.check_consume_key(event.key, event.character):
        return False
    # The same lookup the App makes when the key bubbles up (focused widget first, then its
    # parents), only earlier. Textual has no public call for it.
    if not await widget.app._check_bindings(event.key):
        return False
    event.stop()
    event.prevent_default()
    return True


class OrderedInput(Input):
    """An Input whose editing keys (ctrl+u, ctrl+w, enter, ...) act in typing order.

    With `hold_after_submit`, keys typed after enter wait until the input's owner knows
    where they belong (`release_keys`, `take_keys`): enter usually moves focus, but only
    once its Submitted message has been handled, after the next keys have arrived here."""

    _held: list[events.Key] | None = None

    def __init__(self, *args: Any, hold_after_submit: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hold_after_submit = hold_after_submit

    async def action_submit(self) -> None:
        if self.hold_after_submit:
            self.hold_keys()
        await super().action_submit()

    async def _on_key(self, event: events.Key) -> None:
        if self._held is not None:
            self._held.append(events.Key(event.key, event.character))
            event.stop()
            event.prevent_default()
            return
        await run_bindings_now(self, event)

    def hold_keys(self) -> None:
        self._held = []

    def take_keys(self) -> list[events.Key]:
        """The held keys, in order; holding stops."""
        held, self._held = self._held or [], None
        return held

    def release_keys(self, to: Widget | None) -> None:
        """Hand the held keys, in order, to `to` (this input, or what has focus now)."""
        forward_keys(self.take_keys(), to)


def forward_keys(keys: list[events.Key], to: Widget | None) -> None:
    """Deliver `keys` to `to` in order, as if typed there now (nowhere when it is None)."""
    if to is None:
        return
    for key in keys:
        to._forward_event(key)


class KeyRoutes:
    """Which widget each arriving key was handed to, to re-route it if focus moved since."""

    def __init__(self) -> None:
        self._sent: OrderedDict[int, tuple[events.Key, Widget | None]] = OrderedDict()

    def sent(self, event: events.Key, target: Widget | None) -> None:
        self._sent[id(event)] = (event, target)
        while len(self._sent) > _MAX_IN_FLIGHT:
            self._sent.popitem(last=False)

    def reroute(self, event: events.Key, focused: Widget | None) -> bool:
        """For a key that bubbled back to the App: when focus has moved meanwhile to a text
        widget (the input `/` or `:` opened, the composer `r` opened), hand it a fresh copy,
        as if typed now, and return True (the App must not run bindings for it). Keys that
        arrive while a list or a thread has focus keep their bindings."""
        entry = self._sent.pop(id(event), None)
        if entry is None or entry[0] is not event:
            return False
        target = entry[1]
        if focused is None or focused is target:
            return False
        if not isinstance(focused, (Input, TextArea)):
            return False
        again = events.Key(event.key, event.character)
        self.sent(again, focused)
        focused._forward_event(again)
        return True
