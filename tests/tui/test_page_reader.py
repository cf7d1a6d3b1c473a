"""The inbox list's page reader: one thread, answers in order, the newest query wins."""

from __future__ import annotations

import queue
from pathlib import Path

from agentcli.domain.query import parse_query
from agentcli.store.inbox import count_query, inbox_page
from agentcli.tui.data import StoreAccess
from agentcli.tui.messages import ListError, RowsLoaded
from agentcli.tui.page_reader import PageReader, PageRequest
from agentcli.tui.paging import Fetch
from tests.tui.conftest import AGENT, NOW

QUERIES = ["status:open sort:sla", "lang:uk", "tag:破损", "channel:chat", "sort:created"]


def _reader(store_path: Path) -> tuple[PageReader, StoreAccess, queue.Queue]:  # type: ignore[type-arg]
    answers: queue.Queue[RowsLoaded | ListError] = queue.Queue()
    store = StoreAccess(store_path)
    reader = PageReader(store, AGENT, answers.put)
    reader.start()
    return reader, store, answers


def test_the_newest_query_is_answered_with_its_first_page(store_path: Path) -> None:
    reader, store, answers = _reader(store_path)
    try:
        for generation, text in enumerate(QUERIES, start=1):
            reader.ask(PageRequest(generation, parse_query(text), Fetch(0, False, None, 50), NOW))
        seen: list[RowsLoaded] = []
        while not seen or seen[-1].generation != len(QUERIES):
            answer = answers.get(timeout=10)
            assert isinstance(answer, RowsLoaded), answer
            seen.append(answer)
        # Older queries may be skipped, never answered after a newer one.
        generations = [answer.generation for answer in seen]
        assert generations == sorted(generations)
        db = store.db()
        expected = inbox_page(db, parse_query(QUERIES[-1]), me=AGENT, now=NOW, limit=50).rows
        assert [row.id for row in seen[-1].rows] == [row.id for row in expected]
    finally:
        reader.stop()
        store.close_all()


def test_the_last_page_before_the_count_reads_backward_from_the_end(store_path: Path) -> None:
    reader, store, answers = _reader(store_path)
    try:
        query = parse_query("status:open")
        fetch = Fetch(0, True, None, 20)  # `G` on a list not counted yet
        reader.ask(PageRequest(1, query, fetch, NOW, count_first=True))
        answer = answers.get(timeout=10)
        total = count_query(store.db(), query, me=AGENT, now=NOW)
        assert isinstance(answer, RowsLoaded)
        assert answer.total == total and answer.start == total - 1 and answer.backward
        assert len(answer.rows) == min(20, total)
    finally:
        reader.stop()
        store.close_all()


def test_a_store_that_cannot_be_read_is_reported_not_raised(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    answers: queue.Queue[RowsLoaded | ListError] = queue.Queue()
    store = StoreAccess(broken)
    reader = PageReader(store, AGENT, answers.put)
    reader.start()
    try:
        for generation in (1, 2):  # the thread lives on after a failure
            reader.ask(PageRequest(generation, parse_query(""), Fetch(0, False, None, 10), NOW))
            answer = answers.get(timeout=10)
            assert isinstance(answer, ListError) and answer.generation == generation
            assert "database" in answer.error
    finally:
        reader.stop()
        store.close_all()
