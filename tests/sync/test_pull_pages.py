"""The pull checks pages ahead of the store and applies those waiting together: the result is
the same as applying them one by one, a bad page still applies nothing of itself or later
pages (those before it are kept, with their cursor), and text the batched inserts pass through
SQLite's JSON functions arrives intact."""

from __future__ import annotations

import json
import queue
from pathlib import Path
from typing import Any

import pytest

from agentcli.domain.wire import WireError
from agentcli.store.changes import CheckedPage, apply_checked, apply_page, check_page, read_cursor
from agentcli.store.db import open_store
from agentcli.sync.client import Page, TransportError, check_body
from agentcli.sync.engine import PAGES_AHEAD, Engine, SyncConfig, _take
from agentcli.sync.fetcher import Fetched
from tests.wire_pages import message_change, starter_page, ticket_change


class PagedClient:
    """Serves fixed pages by cursor, like the server's change feed; `fail_after` raises."""

    def __init__(self, pages: list[list[dict[str, Any]]], fail_after: int | None = None) -> None:
        self.by_after: dict[int, Page] = {}
        after = 7  # starter_page's cursor
        for n, changes in enumerate(pages):
            last = n == len(pages) - 1
            self.by_after[after] = Page(changes, changes[-1]["seq"], not last)
            after = changes[-1]["seq"]
        self.fail_after = fail_after
        self.asked: list[int] = []

    def checked_changes(self, after: int, limit: int) -> tuple[CheckedPage, bool]:
        self.asked.append(after)
        if after == self.fail_after:
            raise TransportError("connection reset")
        page = self.by_after[after]
        body = {"changes": page.changes, "next": page.next, "more": page.more}
        return check_body(json.dumps(body).encode(), after=after)


def _pages(count: int) -> list[list[dict[str, Any]]]:
    """`count` pages of a ticket change and two messages each, seqs after 7."""
    pages, seq, message_id = [], 7, 100
    for n in range(count):
        ticket_id = n % 2 + 1
        page = [ticket_change(seq + 1, ticket_id, version=n + 2, subject=f"第 {n} 页")]
        for k in range(2):
            page.append(message_change(seq + 2 + k, message_id + k, ticket_id, f"页 {n} 消息 {k}"))
        pages.append(page)
        seq, message_id = seq + 3, message_id + 2
    return pages


@pytest.fixture
def db(tmp_path: Path):
    store = open_store(tmp_path / "store.db")
    apply_page(store, starter_page(), 7)
    return store


def _state(db) -> tuple:
    conn = db.conn
    conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_tokens"
        " USING fts5vocab(main, search_index, instance)"
    )
    return (
        read_cursor(db),
        conn.execute("SELECT * FROM tickets ORDER BY id").fetchall(),
        conn.execute("SELECT * FROM messages ORDER BY id").fetchall(),
        # Every token of every indexed message with its position (the index is contentless).
        conn.execute(
            "SELECT doc, offset, term FROM temp.search_tokens ORDER BY doc, offset, term"
        ).fetchall(),
    )


def test_pull_equals_applying_pages_one_by_one(db, tmp_path: Path) -> None:
    pages = _pages(2 * PAGES_AHEAD + 3)
    reference = open_store(tmp_path / "reference.db")
    apply_page(reference, starter_page(), 7)
    for page in pages:
        apply_page(reference, page, page[-1]["seq"])
    report = Engine(db, PagedClient(pages), SyncConfig()).pull()  # type: ignore[arg-type]
    assert report.pulled == 3 * len(pages)
    assert _state(db) == _state(reference)


def test_a_bad_page_keeps_the_pages_before_it_and_applies_nothing_after(db) -> None:
    pages = _pages(6)
    pages[3][1]["data"]["kind"] = "shout"  # the message at seq 18 has no such kind
    client = PagedClient(pages)
    with pytest.raises(WireError, match=r"changes\[1\]\.data\.kind"):
        Engine(db, client, SyncConfig()).pull()  # type: ignore[arg-type]
    assert read_cursor(db) == pages[2][-1]["seq"]
    assert db.conn.execute("SELECT max(id) FROM messages").fetchone() == (105,)
    assert max(client.asked) == pages[2][-1]["seq"]  # nothing fetched past the bad page


def test_a_fetch_error_comes_after_the_pages_fetched_before_it(db) -> None:
    pages = _pages(4)
    client = PagedClient(pages, fail_after=pages[1][-1]["seq"])
    with pytest.raises(TransportError):
        Engine(db, client, SyncConfig()).pull()  # type: ignore[arg-type]
    assert read_cursor(db) == pages[1][-1]["seq"]


def test_take_groups_the_waiting_pages_up_to_the_last() -> None:
    waiting: queue.Queue[Any] = queue.Queue()
    checked = check_page(_pages(1)[0], 10, after=7)
    for more in (True, True, False):
        waiting.put(Fetched(checked, more))
    waiting.put(None)
    batch, ended, error = _take(waiting)
    assert [fetched.more for fetched in batch] == [True, True, False]
    assert (ended, error) == (False, None)
    assert _take(waiting) == ([], True, None)


def test_checked_pages_must_follow_the_stored_cursor(db) -> None:
    page = check_page([ticket_change(9, 1, version=5)], 9, after=8)
    before = _state(db)
    with pytest.raises(WireError, match="does not follow cursor 7"):
        apply_checked(db, [page])
    assert _state(db) == before


@pytest.mark.parametrize(
    "text", ["nul\x00inside", "esc \x1b[31m red", '引号 " 和 \\ 反斜杠', "line\u2028sep 😀"]
)
def test_text_is_stored_exactly(db, text: str) -> None:
    apply_page(db, [ticket_change(8, 3, subject=text), message_change(9, 50, 3, text)], 9)
    conn = db.conn
    assert conn.execute("SELECT subject FROM tickets WHERE id = 3").fetchone() == (text,)
    assert conn.execute("SELECT body FROM messages WHERE id = 50").fetchone() == (text,)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_an_integer_past_64_bits_rejects_the_page(db, value: int) -> None:
    before = _state(db)
    with pytest.raises(WireError, match=r"requester_id: expected an integer within 64 bits"):
        apply_page(db, [ticket_change(8, 3, requester_id=value)], 8)
    assert _state(db) == before


def test_integers_at_64_bit_limits_are_stored_exactly(db) -> None:
    low, high = -(2**63), 2**63 - 1
    apply_page(db, [ticket_change(8, 3, requester_id=high, order_id=low)], 8)
    row = db.conn.execute("SELECT requester_id, order_id FROM tickets WHERE id = 3").fetchone()
    assert row == (high, low)
