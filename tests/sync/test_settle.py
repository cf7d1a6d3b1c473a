"""Settling server answers in the local store: replies never twice, pending never vanishes,
conflicts kept as records, rejections shown with the server's state back in place."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentcli.domain.mutations import Mutation, MutationType, Outcome
from agentcli.store.changes import apply_page, read_cursor
from agentcli.store.conflicts import ConflictError, discard, list_conflicts, reapply
from agentcli.store.db import open_store
from agentcli.store.outbox import enqueue, push_batch, queued, rejected, settle
from agentcli.store.tickets import get_ticket
from tests.wire_pages import message_change, starter_page, ticket_change


@pytest.fixture
def db(tmp_path: Path):
    store = open_store(tmp_path / "store.db")
    apply_page(store, starter_page(), 7)
    return store


def _pull(db, *changes) -> None:
    after = read_cursor(db)
    page = [{**change, "seq": after + i + 1} for i, change in enumerate(changes)]
    apply_page(db, page, after + len(page))


def _bodies(db, ticket_id: int = 1) -> list[str]:
    return [m["body"] for m in get_ticket(db, ticket_id)["messages"]]


def _outbox_rows(db) -> int:
    return db.conn.execute("SELECT count(*) FROM outbox").fetchone()[0]


def test_sent_reply_is_replaced_by_the_servers_copy_never_shown_twice(db) -> None:
    reply = Mutation(MutationType.REPLY, 1, 1, {"body": "已为您登记退货"})
    enqueue(db, reply, author="li")
    settle(db, reply.client_id, Outcome.APPLIED, version=2, message_id=500)
    assert _bodies(db).count("已为您登记退货") == 1  # local copy kept until the server's comes
    assert get_ticket(db, 1)["pending"] is False
    _pull(db, message_change(0, 500, 1, "已为您登记退货"), ticket_change(0, 1, version=2))
    messages = get_ticket(db, 1)["messages"]
    assert [m["id"] for m in messages if m["body"] == "已为您登记退货"] == [500]
    assert _outbox_rows(db) == 0
    assert db.conn.execute("SELECT count(*) FROM ticket_base").fetchone()[0] == 0


def test_servers_copy_before_the_answer_then_duplicate_answer(db) -> None:
    # A crash after the server applied the push: the retry is answered "duplicate".
    reply = Mutation(MutationType.REPLY, 1, 1, {"body": "thanks"})
    enqueue(db, reply, author="li")
    _pull(db, message_change(0, 501, 1, "thanks"))
    settle(db, reply.client_id, Outcome.DUPLICATE, version=2, message_id=501)
    assert _bodies(db).count("thanks") == 1
    assert _outbox_rows(db) == 0


def test_pulled_change_does_not_hide_a_pending_assignment(db) -> None:
    assign = Mutation(MutationType.ASSIGN, 1, 1, {"assignee": "li"})
    enqueue(db, assign, author="li")
    # Someone else changed the priority meanwhile: we take it and keep our pending assignee.
    _pull(db, ticket_change(0, 1, priority="urgent", version=2))
    ticket = get_ticket(db, 1)
    assert (ticket["assignee"], ticket["priority"], ticket["pending"]) == ("li", "urgent", True)
    settle(db, assign.client_id, Outcome.APPLIED, version=3)
    assert get_ticket(db, 1)["pending"] is False
    # An older state pulled after the answer must not undo the shown change either.
    _pull(db, ticket_change(0, 1, priority="urgent", tags=["x"], version=2))
    assert get_ticket(db, 1)["assignee"] == "li"
    _pull(db, ticket_change(0, 1, priority="urgent", assignee="li", version=3))
    assert get_ticket(db, 1)["assignee"] == "li"
    assert _outbox_rows(db) == 0
    assert db.conn.execute("SELECT count(*) FROM ticket_base").fetchone()[0] == 0


def test_conflict_takes_the_servers_value_and_keeps_the_intent(db) -> None:
    assign = Mutation(MutationType.ASSIGN, 1, 1, {"assignee": "li"})
    enqueue(db, assign, author="li")
    current = ticket_change(0, 1, assignee="sup", version=2)["data"]
    settle(db, assign.client_id, Outcome.CONFLICT, "assign changed", version=2, current=current)
    ticket = get_ticket(db, 1)
    assert (ticket["assignee"], ticket["version"], ticket["pending"]) == ("sup", 2, False)
    [record] = list_conflicts(db)
    assert record["payload"] == {"assignee": "li"} and record["server_version"] == 2
    again = reapply(db, record["id"], author="li")
    assert again.base_version == 2
    assert get_ticket(db, 1)["assignee"] == "li"
    assert [m["client_id"] for m in queued(db)] == [again.client_id]
    assert list_conflicts(db) == []
    with pytest.raises(ConflictError):
        discard(db, record["id"])


def test_discarded_conflict_leaves_the_servers_value(db) -> None:
    status = Mutation(MutationType.SET_STATUS, 1, 1, {"status": "solved"})
    enqueue(db, status, author="li")
    settle(db, status.client_id, Outcome.CONFLICT, "changed", version=2, current=None)
    [record] = list_conflicts(db)
    discard(db, record["id"])
    assert list_conflicts(db) == [] and list_conflicts(db, everything=True)[0]["state"] == (
        "discarded"
    )
    assert get_ticket(db, 1)["status"] == "open"


def test_rejected_change_shows_the_server_state_and_the_reason(db) -> None:
    tag = Mutation(MutationType.TAG, 1, 1, {"add": ["vip"]})
    enqueue(db, tag, author="li")
    assert "vip" in get_ticket(db, 1)["tags"]
    settle(db, tag.client_id, Outcome.REJECTED, "forbidden")
    ticket = get_ticket(db, 1)
    assert "vip" not in ticket["tags"] and ticket["pending"] is False
    assert [(r["client_id"], r["last_error"]) for r in rejected(db)] == [
        (tag.client_id, "forbidden")
    ]
    assert db.conn.execute("SELECT count(*) FROM ticket_tags WHERE tag = 'vip'").fetchone()[0] == 0


def test_same_field_changes_go_in_separate_batches_and_are_rebased(db) -> None:
    first = Mutation(MutationType.ASSIGN, 1, 1, {"assignee": "li"})
    second = Mutation(MutationType.ASSIGN, 1, 1, {"assignee": "olena"})
    note = Mutation(MutationType.NOTE, 1, 1, {"body": "after both"})
    for mutation in (first, second, note):
        enqueue(db, mutation, author="li")
    assert [r["client_id"] for r in push_batch(db, 50)] == [first.client_id]
    settle(db, first.client_id, Outcome.APPLIED, version=2)
    batch = push_batch(db, 50)
    assert [r["client_id"] for r in batch] == [second.client_id, note.client_id]
    assert batch[0]["base_version"] == 2
    assert get_ticket(db, 1)["assignee"] == "olena"
