"""Customer satisfaction ratings from a survey tool, by a signed webhook.

`POST /api/v1/csat`, enabled with `agentcli serve --webhook-secret csat=SECRET` and signed
exactly like the channel webhooks (agentcli.server.webhooks: HMAC-SHA256 of
`f"{timestamp}.{body}"`, 5-minute replay window). A rating is recorded in the ticket's audit
trail as a `csat` event (old: the previous rating, new: good | bad) with the comment, if any,
as a `csat_comment` event, so it reaches every client through the change feed; the metrics
count the latest rating of each ticket (Zendesk's CSAT: good / (good + bad)).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Connection, Engine, select

from agentcli.domain.clock import now_epoch
from agentcli.server.audit import CUSTOMER, record_event
from agentcli.server.db import write_tx
from agentcli.server.records import get_ticket
from agentcli.server.schema import ticket_events
from agentcli.server.webhooks import WebhookError

SECRET_NAME = "csat"  # --webhook-secret csat=...
CLIENT = "webhook:csat"


class CsatRating(BaseModel):
    ticket_id: int = Field(ge=1, le=2**53, description="the rated ticket")
    rating: Literal["good", "bad"]
    comment: str | None = Field(default=None, max_length=5_000)


class CsatAccepted(BaseModel):
    ticket_id: int
    rating: Literal["good", "bad"]
    event_id: int = Field(description="the csat event in the ticket's audit trail")
    duplicate: bool = Field(description="the same rating and comment as the latest: not stored")


def parse(body: bytes) -> CsatRating:
    try:
        return CsatRating.model_validate(json.loads(body))
    except (ValueError, ValidationError) as error:
        raise WebhookError(422, f"malformed body: {error}") from None


def _latest(conn: Connection, ticket_id: int, field: str) -> tuple[int, str | None] | None:
    row = conn.execute(
        select(ticket_events.c.id, ticket_events.c.new)
        .where(ticket_events.c.ticket_id == ticket_id, ticket_events.c.field == field)
        .order_by(ticket_events.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (int(row[0]), row[1])


def _is_repeat(conn: Connection, rating: CsatRating) -> int | None:
    """The latest csat event's id when this delivery says the same again, else None."""
    previous = _latest(conn, rating.ticket_id, "csat")
    if previous is None or previous[1] != rating.rating:
        return None
    comment = _latest(conn, rating.ticket_id, "csat_comment")
    # A comment event after the latest rating was written with it, by the same delivery.
    said = comment[1] if comment is not None and comment[0] > previous[0] else None
    return previous[0] if said == (rating.comment or None) else None


def store_rating(engine: Engine, rating: CsatRating, now: int | None = None) -> dict[str, Any]:
    """Record the rating; a survey tool's retry of the latest rating stores nothing new."""
    at = now or now_epoch()
    answer = {"ticket_id": rating.ticket_id, "rating": rating.rating}
    with write_tx(engine) as conn:
        if get_ticket(conn, rating.ticket_id, for_update=True) is None:
            raise WebhookError(404, f"ticket {rating.ticket_id} not found")
        repeat = _is_repeat(conn, rating)
        if repeat is not None:
            return {**answer, "event_id": repeat, "duplicate": True}
        previous = _latest(conn, rating.ticket_id, "csat")

        def record(field: str, old: str | None, new: str) -> int:
            return record_event(
                conn,
                ticket_id=rating.ticket_id,
                actor=CUSTOMER,
                client=CLIENT,
                field=field,
                old=old,
                new=new,
                at=at,
            )

        event_id = record("csat", previous[1] if previous else None, rating.rating)
        if rating.comment:
            record("csat_comment", None, rating.comment)
    return {**answer, "event_id": event_id, "duplicate": False}
