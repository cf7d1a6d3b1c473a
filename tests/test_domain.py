"""Domain rules: the after-sale state machine, SLA running due, vocabularies."""

from __future__ import annotations

import pytest

from agentcli.domain.cases import (
    CaseState,
    CaseType,
    InvalidTransition,
    allowed_transitions,
    check_transition,
)
from agentcli.domain.clock import SLA_NEVER
from agentcli.domain.models import AfterSaleCase
from agentcli.domain.sla import running_due
from agentcli.domain.vocabulary import Priority, Status

S = CaseState


def test_return_and_refund_happy_path() -> None:
    case = AfterSaleCase(CaseType.RETURN_AND_REFUND)
    for state in (S.APPROVED, S.AWAITING_RETURN, S.RECEIVED, S.REFUNDED, S.CLOSED):
        case = case.advance(state)
    assert case.state is S.CLOSED


def test_refund_only_resolves_without_a_return() -> None:
    case = AfterSaleCase(CaseType.REFUND_ONLY).advance(S.APPROVED).advance(S.REFUNDED)
    assert case.state.is_resolved
    with pytest.raises(InvalidTransition):
        AfterSaleCase(CaseType.REFUND_ONLY, S.APPROVED).advance(S.AWAITING_RETURN)


@pytest.mark.parametrize(
    ("case_type", "current", "target"),
    [
        (CaseType.RETURN_AND_REFUND, S.APPROVED, S.REFUNDED),  # goods must come back first
        (CaseType.EXCHANGE, S.RECEIVED, S.REFUNDED),  # an exchange ends exchanged
        (CaseType.RESHIP, S.APPROVED, S.REPAIRED),
        (CaseType.REPAIR, S.REQUESTED, S.RECEIVED),  # skipping approval
        (CaseType.COMPLAINT, S.CLOSED, S.REQUESTED),  # closed is final
        (CaseType.REFUND_ONLY, S.REFUNDED, S.APPROVED),
    ],
)
def test_impossible_transitions_are_refused_with_both_states(case_type, current, target) -> None:
    with pytest.raises(InvalidTransition, match=f"from {current} to {target}"):
        check_transition(case_type, current, target)


def test_every_type_can_reach_closed_from_requested() -> None:
    for case_type in CaseType:
        seen, frontier = {S.REQUESTED}, [S.REQUESTED]
        while frontier:
            for nxt in allowed_transitions(case_type, frontier.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append(nxt)
        assert S.CLOSED in seen
        assert any(state.is_resolved for state in seen), case_type


def test_rejected_case_can_be_appealed() -> None:
    assert S.REQUESTED in allowed_transitions(CaseType.REFUND_ONLY, S.REJECTED)


def test_running_due_is_earliest_only_while_active() -> None:
    assert running_due("open", 300, None, 200) == 200
    assert running_due("new", None, None, None) == SLA_NEVER
    for paused in ("pending", "on-hold", "solved", "closed"):
        assert running_due(paused, 300, 100, 200) == SLA_NEVER


def test_priority_ranks_order_and_round_trip() -> None:
    assert [p.rank for p in Priority] == [0, 1, 2, 3]
    assert all(Priority.from_rank(p.rank) is p for p in Priority)
    assert Status.NEW.is_active and not Status.PENDING.is_active


def test_elapsed_time_in_its_two_largest_units() -> None:
    from agentcli.domain.durations import elapsed

    now = 1_000_000
    assert elapsed(None, now) == ""
    assert elapsed(now - 45, now) == "45s"
    assert elapsed(now - 25 * 60, now) == "25m"
    assert elapsed(now - 3 * 3600 - 600, now) == "3h 10m"
    assert elapsed(now - 42 * 3600, now) == "1d 18h"
    assert elapsed(now + 60, now) == "0s"  # a clock ahead of ours is "just now"
