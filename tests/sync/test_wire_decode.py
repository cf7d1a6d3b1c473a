"""A /changes body decoded and checked in one pass (domain.wire_decode, msgspec) gives exactly
what the step-by-step path gives (json, the client's shape checks, wire.parse_changes): the
same changes with the same values, or the same error; whatever the fast path does not take
goes the step-by-step way."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from agentcli.domain.wire import WireError
from agentcli.domain.wire_decode import decode_page
from agentcli.store.changes import check_page
from agentcli.sync.client import ProtocolError, _decode, _page, check_body
from tests.wire_pages import customer_change, message_change, order_change, ticket_change

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    -(2**63) - 1,
    2**70,
    1.5,
    "",
    "open",
    "urgent",
    "2026-11-20T08:00:00z",
    "2026-11-20 08:00:00+05:30",
    "2026-11-20T08:00:00.9999999Z",
    "2026-11-20T08:00:00",
    "a\x00b",
    "field_name",
    [],
    ["a", 1],
    {},
]


def _valid() -> list[dict[str, Any]]:
    return [
        customer_change(1),
        order_change(2),
        ticket_change(3, 1),
        ticket_change(4, 1, assignee="li", tags=[], order_id=None, snoozed_until=None),
        message_change(5, 10, 1, "退款"),
        {
            "seq": 6,
            "kind": "agent",
            "data": {
                "login": "li",
                "name": "李",
                "role": "agent",
                "languages": ["zh-CN"],
                "capacity": 5,
                "queues": ["returns"],
                "active": True,
            },
        },
        {
            "seq": 7,
            "kind": "event",
            "data": {
                "id": 1,
                "ticket_id": 1,
                "at": "2026-11-20T08:00:00+08:00",
                "actor": "li",
                "client": None,
                "field": "status",
                "old": "open",
                "new": "pending",
            },
        },
    ]


def _step_by_step(body: bytes, after: int) -> Any:
    try:
        page = _page(_decode("GET", "/changes", body))
        checked = check_page(page.changes, page.next, after=after)
    except (ProtocolError, WireError) as error:
        return type(error).__name__, str(error)
    return [(c.seq, c.kind, c.data) for c in checked.changes], checked.next, page.more


def _fast(body: bytes, after: int) -> Any:
    try:
        checked, more = check_body(body, after=after)
    except (ProtocolError, WireError) as error:
        return type(error).__name__, str(error)
    return [(c.seq, c.kind, c.data) for c in checked.changes], checked.next, more


def _mutate(rng: random.Random, page: dict[str, Any]) -> None:
    for _ in range(rng.randint(0, 2)):
        roll = rng.random()
        if roll < 0.05:
            page[rng.choice(["next", "more", "changes"])] = rng.choice(ODD_VALUES)
            continue
        if not isinstance(page["changes"], list) or not page["changes"]:
            return
        change = rng.choice(page["changes"])
        target = change if roll < 0.25 else change.get("data")
        if not isinstance(target, dict) or not target:
            continue
        key = rng.choice(list(target))
        if rng.random() < 0.1:
            del target[key]
        elif rng.random() < 0.1:
            target["unknown_extra"] = 1  # ignored by both
        else:
            target[key] = rng.choice(ODD_VALUES)


@pytest.mark.parametrize("seed", range(4))
def test_one_pass_decode_equals_step_by_step(seed: int) -> None:
    rng = random.Random(seed)
    fast_taken = 0
    for _ in range(500):
        page: dict[str, Any] = {"changes": copy.deepcopy(_valid()), "next": 7, "more": False}
        _mutate(rng, page)
        body = json.dumps(page, ensure_ascii=rng.random() < 0.5).encode()
        after = rng.choice([0, 0, 0, 3])
        expected = _step_by_step(body, after)
        assert _fast(body, after) == expected, page
        fast_taken += decode_page(body, after=after) is not None
    assert fast_taken > 100  # the generator leaves many pages well-formed


@pytest.mark.parametrize(
    "body",
    [
        b'{"changes": [',  # truncated
        b'{"changes": [], "next": 0, "more": false} x',
        b"\xef\xbb\xbf" + json.dumps({"changes": _valid(), "next": 7, "more": False}).encode(),
        json.dumps({"changes": _valid(), "next": 7, "more": False}).encode()[:-1] + b"\xff}",
        b'{"changes": [{"seq": 1, "kind": "customer", "data": {"id": NaN}}], "next": 1,'
        b' "more": false}',
        b'{"changes": [{"seq": 1, "data": {}, "kind": "ticket"}], "next": 1, "more": false}',
        b'{"changes": [{"seq": 1, "kind": "message", "data": {"body": "\\ud800"}}], "next": 1,'
        b' "more": false}',
    ],
)
def test_odd_bodies_fail_or_pass_alike(body: bytes) -> None:
    assert _fast(body, 0) == _step_by_step(body, 0)


def test_a_well_formed_page_takes_the_one_pass_path() -> None:
    page = {"changes": _valid(), "next": 9, "more": True}
    decoded = decode_page(json.dumps(page, ensure_ascii=False).encode(), after=0)
    assert decoded is not None
    changes, cursor, more = decoded
    assert (cursor, more) == (9, True)
    assert [c.kind for c in changes] == [
        "customer",
        "order",
        "ticket",
        "ticket",
        "message",
        "agent",
        "event",
    ]
    ticket = changes[2].data
    assert ticket["priority"] == 1  # the rank, as the store keeps it
    assert ticket["created_at"] == 1795161600
    assert changes[6].data["at"] == 1795132800  # +08:00
