"""The compiled per-kind checkers of agentcli.domain.wire accept exactly what the field-by-field
checks accept, with the same values, and every refusal carries the same explanation."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from agentcli.domain.wire import WireError, _parse_one, parse_changes
from tests.wire_pages import customer_change, message_change, order_change, ticket_change

ODD_VALUES: list[Any] = [None, True, False, 0, -1, 2**40, 1.5, "", "open", "x", [], ["a"], {}]


def _slow(raw: list[Any], after: int) -> list[tuple[int, str, dict[str, Any]]]:
    out, last = [], after
    for index, item in enumerate(raw):
        out.append(_parse_one(index, item, last))
        last = out[-1][0]
    return out


def _outcome(function: Any, raw: list[Any]) -> Any:
    try:
        return function(raw)
    except WireError as error:
        return ("error", str(error))


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_equals_field_by_field(seed: int) -> None:
    rng = random.Random(seed)
    valid = [
        customer_change(1),
        order_change(2),
        ticket_change(3, 1),
        ticket_change(4, 1, assignee="li", tags=[], order_id=None, snoozed_until=None),
        message_change(5, 10, 1, "退款"),
    ]
    for _ in range(600):
        page = copy.deepcopy(valid)
        for _ in range(rng.randint(0, 2)):
            change = rng.choice(page)
            target = change if rng.random() < 0.2 else change.get("data")
            if not isinstance(target, dict) or not target:
                continue
            key = rng.choice(list(target))
            if rng.random() < 0.15:
                del target[key]
            else:
                target[key] = rng.choice(ODD_VALUES)
        fast = _outcome(
            lambda raw: [(c.seq, c.kind, c.data) for c in parse_changes(raw, after=0)], page
        )
        slow = _outcome(lambda raw: _slow(raw, 0), page)
        assert fast == slow, page
