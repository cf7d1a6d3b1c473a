"""Batched page application (store.changes.apply_page) equals applying the same changes one
by one in seq order: random pages with repeats, messages before their ticket's next state,
subject changes, pending overlays and sent replies whose server copy arrives."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from agentcli.domain.mutations import Mutation, MutationType, Outcome
from agentcli.domain.wire import parse_changes
from agentcli.store.changes import apply_changes_one_by_one, apply_page, read_cursor
from agentcli.store.db import open_store, transaction
from agentcli.store.outbox import enqueue, settle
from tests.wire_pages import customer_change, message_change, order_change, ticket_change

TABLES = (
    "SELECT * FROM tickets ORDER BY id",
    "SELECT * FROM ticket_tags ORDER BY ticket_id, tag",
    "SELECT * FROM messages ORDER BY id",
    # The index is contentless: compare its tokens per message (fts5vocab, below).
    "SELECT doc, term, offset FROM temp.index_vocab ORDER BY doc, offset, term",
    "SELECT word FROM search_words ORDER BY word",
    "SELECT * FROM customers ORDER BY id",
    "SELECT * FROM orders ORDER BY id",
    "SELECT ticket_id, data FROM ticket_base ORDER BY ticket_id",
    "SELECT seq, state, message_id FROM outbox ORDER BY seq",
    "SELECT * FROM sync_state WHERE key = 'cursor'",
)


def _digest(db) -> str:
    db.conn.execute(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.index_vocab"
        " USING fts5vocab(main, search_index, instance)"
    )
    digest = hashlib.sha256()
    for sql in TABLES:
        for row in db.conn.execute(sql):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _random_page(rng: random.Random, after: int, next_message: list[int]) -> list[dict]:
    page = []
    for _ in range(rng.randint(1, 60)):
        roll = rng.random()
        ticket_id = rng.randint(1, 8)
        if roll < 0.35:
            page.append(
                ticket_change(
                    0,
                    ticket_id,
                    subject=rng.choice(["退款 申请", "Де моє замовлення", f"订单 {ticket_id}"]),
                    status=rng.choice(["open", "pending", "solved"]),
                    tags=rng.sample(["破损", "退款", "vip", "物流"], rng.randint(0, 3)),
                    version=rng.randint(1, 9),
                )
            )
        elif roll < 0.85:
            if rng.random() < 0.2 and next_message[0] > 100:
                message_id = rng.randint(100, next_message[0] - 1)  # a repeat
            else:
                message_id = next_message[0]
                next_message[0] += rng.choice([1, 1, 1, 2])
            page.append(message_change(0, message_id, ticket_id, f"您好 {message_id} 物流?"))
        elif roll < 0.93:
            page.append(customer_change(0, rng.randint(1, 3)))
        else:
            page.append(order_change(0, rng.randint(1, 3)))
    return [{**change, "seq": after + i + 1} for i, change in enumerate(page)]


def _stores(tmp_path: Path, rng: random.Random):
    stores = [open_store(tmp_path / "batched.db"), open_store(tmp_path / "reference.db")]
    starter = [ticket_change(i + 1, i + 1) for i in range(8)]
    for db in stores:
        apply_page(db, starter, len(starter))
    # Pending overlays and sent replies awaiting their server copy, the same in both.
    for db in stores:
        for n, ticket_id in enumerate((2, 5)):
            reply = Mutation(MutationType.REPLY, ticket_id, 1, {"body": f"reply {n}"}, f"r{n}")
            enqueue(db, reply, author="li")
            settle(db, reply.client_id, Outcome.APPLIED, version=2, message_id=150 + n)
        status = Mutation(MutationType.SET_STATUS, 3, 1, {"status": "pending"}, "s0")
        enqueue(db, status, author="li")
        tag = Mutation(MutationType.TAG, 6, None, {"add": ["mine"]}, "t0")
        enqueue(db, tag, author="li")
    return stores


@pytest.mark.parametrize("seed", range(12))
def test_batched_apply_equals_one_by_one(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Local edits are stamped with the current second: one clock for both stores, or a second
    # ticking over between building them makes them differ.
    monkeypatch.setattr("agentcli.store.outbox.now_epoch", lambda: 1_795_176_000)
    rng = random.Random(seed)
    batched, reference = _stores(tmp_path, rng)
    next_message = [100]
    for round_no in range(9):
        after = read_cursor(batched)
        if round_no < 8:
            page = _random_page(rng, after, next_message)
        else:  # the sent replies' server copies, whether or not a random page brought them
            echoes = [message_change(0, 150, 2, "reply 0"), message_change(0, 151, 5, "reply 1")]
            page = [{**change, "seq": after + i + 1} for i, change in enumerate(echoes)]
        apply_page(batched, page, page[-1]["seq"])
        with transaction(reference) as conn:
            apply_changes_one_by_one(conn, parse_changes(page, after=after))
            conn.execute(
                "INSERT INTO sync_state(key, value) VALUES ('cursor', ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (str(page[-1]["seq"]),),
            )
        assert _digest(batched) == _digest(reference)
    # Local copies of the sent replies went when their server copies arrived.
    assert batched.conn.execute("SELECT count(*) FROM messages WHERE id < 0").fetchone()[0] == 0
