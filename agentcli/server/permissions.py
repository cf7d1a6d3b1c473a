"""Who may do what, in one place so every rule is enforced the same way and tested.

- agent: acts on tickets assigned to them, or unassigned in one of their queues; may take
  (assign to self) or release (unassign) such a ticket, never hand it to someone else, and
  may not move tickets between queues.
- supervisor: acts on every ticket, reassigns anyone, moves queues, bulk-updates.
- admin: everything a supervisor may, plus managing agents, queues and policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentcli.domain.mutations import MutationType
from agentcli.domain.vocabulary import Role

_RANK = {Role.AGENT: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}


def at_least(agent: Mapping[str, Any], role: Role) -> bool:
    return _RANK[Role(agent["role"])] >= _RANK[role]


def may_act_on(agent: Mapping[str, Any], ticket: Mapping[str, Any]) -> bool:
    if at_least(agent, Role.SUPERVISOR):
        return True
    if ticket["assignee"] == agent["login"]:
        return True
    return ticket["assignee"] is None and ticket["queue"] in agent["queues"]


def mutation_forbidden(
    agent: Mapping[str, Any],
    ticket: Mapping[str, Any],
    kind: MutationType,
    payload: Mapping[str, Any],
) -> str | None:
    """Why `agent` may not apply this mutation to `ticket`, or None when allowed."""
    if not may_act_on(agent, ticket):
        return "forbidden: the ticket is neither yours nor unassigned in your queues"
    if at_least(agent, Role.SUPERVISOR):
        return None
    if kind is MutationType.ASSIGN and payload.get("assignee") not in (None, agent["login"]):
        return "forbidden: only supervisors assign tickets to someone else"
    if kind is MutationType.SET_QUEUE:
        return "forbidden: only supervisors move tickets between queues"
    return None
