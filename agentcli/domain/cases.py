"""After-sale cases (售后单): their types and the state machine every change must follow."""

from __future__ import annotations

from enum import StrEnum


class CaseType(StrEnum):
    RETURN_AND_REFUND = "return-and-refund"  # 退货退款
    REFUND_ONLY = "refund-only"  # 仅退款
    EXCHANGE = "exchange"  # 换货
    RESHIP = "reship"  # 补发
    REPAIR = "repair"  # 维修 / 返厂
    PRICE_PROTECTION = "price-protection"  # 价保
    COMPLAINT = "complaint"  # 投诉


class CaseState(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    AWAITING_RETURN = "awaiting-return"
    RECEIVED = "received"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    REPAIRED = "repaired"
    RESHIPPED = "reshipped"
    CLOSED = "closed"

    @property
    def is_resolved(self) -> bool:
        return self in RESOLVED_STATES


RESOLVED_STATES = frozenset(
    {CaseState.REFUNDED, CaseState.EXCHANGED, CaseState.REPAIRED, CaseState.RESHIPPED}
)

# Which resolution each case type ends in; a refund-only case can't be "repaired".
RESOLUTION_FOR_TYPE: dict[CaseType, frozenset[CaseState]] = {
    CaseType.RETURN_AND_REFUND: frozenset({CaseState.REFUNDED}),
    CaseType.REFUND_ONLY: frozenset({CaseState.REFUNDED}),
    CaseType.EXCHANGE: frozenset({CaseState.EXCHANGED}),
    CaseType.RESHIP: frozenset({CaseState.RESHIPPED}),
    CaseType.REPAIR: frozenset({CaseState.REPAIRED}),
    CaseType.PRICE_PROTECTION: frozenset({CaseState.REFUNDED}),
    CaseType.COMPLAINT: frozenset(RESOLVED_STATES),
}

# Types whose goods travel back to the shop before resolution.
RETURNS_GOODS = frozenset({CaseType.RETURN_AND_REFUND, CaseType.EXCHANGE, CaseType.REPAIR})

_BASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.REQUESTED: frozenset({CaseState.APPROVED, CaseState.REJECTED, CaseState.CLOSED}),
    CaseState.APPROVED: frozenset({CaseState.AWAITING_RETURN, CaseState.CLOSED} | RESOLVED_STATES),
    CaseState.REJECTED: frozenset({CaseState.REQUESTED, CaseState.CLOSED}),  # customer appeals
    CaseState.AWAITING_RETURN: frozenset({CaseState.RECEIVED, CaseState.CLOSED}),
    CaseState.RECEIVED: frozenset(RESOLVED_STATES | {CaseState.REJECTED}),  # inspection may fail
    CaseState.REFUNDED: frozenset({CaseState.CLOSED}),
    CaseState.EXCHANGED: frozenset({CaseState.CLOSED}),
    CaseState.REPAIRED: frozenset({CaseState.CLOSED}),
    CaseState.RESHIPPED: frozenset({CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
}


class InvalidTransition(ValueError):
    """A case state change the state machine does not allow."""


def allowed_transitions(case_type: CaseType, state: CaseState) -> frozenset[CaseState]:
    """Next states reachable from `state` for a case of `case_type`."""
    targets = set(_BASE_TRANSITIONS[state])
    resolutions = RESOLUTION_FOR_TYPE[case_type]
    targets -= RESOLVED_STATES - resolutions
    if case_type in RETURNS_GOODS:
        # Goods must come back before the case resolves.
        if state is CaseState.APPROVED:
            targets -= RESOLVED_STATES
    else:
        targets.discard(CaseState.AWAITING_RETURN)
        if state is CaseState.RECEIVED:
            targets = set()
    return frozenset(targets)


def check_transition(case_type: CaseType, current: CaseState, target: CaseState) -> None:
    """Raise InvalidTransition naming both states when `current -> target` is not allowed."""
    if target not in allowed_transitions(case_type, current):
        allowed = ", ".join(sorted(allowed_transitions(case_type, current))) or "none"
        raise InvalidTransition(
            f"a {case_type} case cannot go from {current} to {target} (allowed: {allowed})"
        )
