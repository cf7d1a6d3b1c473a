"""SLA arithmetic that needs no policy: which due time is running for a ticket."""

from __future__ import annotations

from agentcli.domain.clock import SLA_NEVER
from agentcli.domain.vocabulary import Status


def running_due(
    status: str,
    first_reply_due: int | None,
    next_reply_due: int | None,
    resolution_due: int | None,
) -> int:
    """The earliest due time while the clock runs (new/open), else SLA_NEVER.

    Pending and on-hold pause the clock; solved and closed stop it.
    """
    if not Status(status).is_active:
        return SLA_NEVER
    dues = [due for due in (first_reply_due, next_reply_due, resolution_due) if due is not None]
    return min(dues) if dues else SLA_NEVER
