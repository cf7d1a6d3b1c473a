"""What applying checked changes needs that does not depend on the store, made ahead.

The pull checks pages in its fetcher thread while the store applies earlier ones, and makes
this there too: search index texts, search words and ticket rows were a third of the store's
Python work for a first sync, and SQLite runs the store's statements without the GIL, so with
a free core the two overlap. Applying gives the same result with or without it (the store
falls back to making what is missing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from agentcli.domain.text import index_text, index_words
from agentcli.domain.wire import Change
from agentcli.store.overlay import ticket_values


@dataclass(frozen=True, slots=True)
class Prepared:
    texts: dict[str, str]  # message body -> index_text(body)
    words: set[str]  # index_words of every message body: the words,
    left: list[str]  # and the bodies whose words SQLite itself must tell
    messages: int  # how many message changes the words come from
    tickets: dict[int, list[Any]]  # a ticket change's seq -> its `tickets` values


NOTHING = Prepared({}, set(), [], 0, {})


def prepare(changes: list[Change]) -> Prepared:
    bodies = [change.data["body"] for change in changes if change.kind == "message"]
    words, left = index_words(bodies)
    return Prepared(
        {body: index_text(body) for body in set(bodies)},
        words,
        left,
        len(bodies),
        {change.seq: ticket_values(change.data) for change in changes if change.kind == "ticket"},
    )


def merged(parts: Iterable[Prepared]) -> Prepared:
    """One Prepared for the changes of several pages applied together."""
    out = Prepared({}, set(), [], 0, {})
    messages = 0
    for part in parts:
        out.texts.update(part.texts)
        out.words.update(part.words)
        out.left.extend(part.left)
        out.tickets.update(part.tickets)
        messages += part.messages
    return Prepared(out.texts, out.words, out.left, messages, out.tickets)
