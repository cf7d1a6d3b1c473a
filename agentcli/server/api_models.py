"""Request and response bodies of the HTTP API (pydantic), which also shape the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from agentcli.domain.mutations import MutationType, Outcome
from agentcli.domain.vocabulary import Role

# Ids and seqs stay within JSON's exactly representable integers.
MAX_ID = 2**53 - 1


class ErrorBody(BaseModel):
    detail: Any


class Me(BaseModel):
    login: str
    name: str
    role: Role
    languages: list[str]
    capacity: int
    queues: list[str]
    active: bool


class Change(BaseModel):
    seq: int
    kind: str = Field(description="ticket | message | customer | order | agent | event")
    data: dict[str, Any]


class ChangePage(BaseModel):
    changes: list[Change]
    next: int = Field(description="cursor to pass as `after` for the next page")
    more: bool


class MutationIn(BaseModel):
    client_id: UUID
    type: MutationType
    ticket_id: int = Field(ge=1, le=MAX_ID)
    base_version: int | None = Field(default=None, ge=0, le=2**31)
    payload: dict[str, Any] = Field(default_factory=dict)


class MutationBatch(BaseModel):
    mutations: list[MutationIn] = Field(max_length=500)


class MutationOut(BaseModel):
    client_id: str
    outcome: Outcome
    version: int | None = None
    seq: int | None = None
    reason: str | None = None
    current: dict[str, Any] | None = None
    message_id: int | None = None


class MutationResults(BaseModel):
    results: list[MutationOut]


class PresenceIn(BaseModel):
    ticket_id: int = Field(ge=1, le=MAX_ID)
    activity: Literal["viewing", "replying"]


class PresenceOut(BaseModel):
    agent: str
    ticket_id: int
    activity: str
    at: int = Field(description="Unix seconds of the agent's latest post")


class WebhookAccepted(BaseModel):
    ticket_id: int
    message_id: int
    duplicate: bool


class NewAgent(BaseModel):
    login: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    name: str | None = Field(default=None, max_length=200)
    role: Role = Role.AGENT
    languages: list[str] = Field(default_factory=list, max_length=20)
    queues: list[str] = Field(default_factory=list, max_length=50)
    capacity: int = Field(default=20, ge=0, le=10_000)


class AgentChanges(BaseModel):
    """The fields an admin may change on an agent; absent fields stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    languages: list[str] | None = Field(default=None, max_length=20)
    queues: list[str] | None = Field(default=None, max_length=50)
    capacity: int | None = Field(default=None, ge=0, le=10_000)


class NewAgentToken(BaseModel):
    login: str
    token: str = Field(description="shown once; the server keeps only its hash")
