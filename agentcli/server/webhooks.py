"""Signed inbound webhooks: chat, marketplace, social and phone-log messages.

The sender signs `f"{timestamp}.{body}"` with HMAC-SHA256 under the channel's secret and sends
`X-Agentcli-Timestamp: <unix seconds>` and `X-Agentcli-Signature: sha256=<hex>`. A timestamp
more than 5 minutes off is refused, so a captured request cannot be replayed later; the
external message id makes a retried delivery inside the window store nothing new.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine

from agentcli.domain.clock import now_epoch
from agentcli.domain.vocabulary import Channel
from agentcli.server.db import write_tx
from agentcli.server.inbound import InboundText, Sender, receive
from agentcli.server.workflow import Workflow

WEBHOOK_CHANNELS = (Channel.CHAT, Channel.MARKETPLACE, Channel.SOCIAL, Channel.PHONE, Channel.WEB)
REPLAY_WINDOW = 300
TIMESTAMP_HEADER = "x-agentcli-timestamp"
SIGNATURE_HEADER = "x-agentcli-signature"


class WebhookError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class InboundCustomer(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    handle: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    locale: str = Field(default="en", max_length=16)


class InboundMessage(BaseModel):
    external_id: str = Field(min_length=1, max_length=255, description="dedupe key")
    thread_id: str | None = Field(
        default=None, max_length=255, description="conversation id: threads onto its ticket"
    )
    customer: InboundCustomer
    text: str = Field(min_length=1, max_length=100_000)
    subject: str | None = Field(default=None, max_length=500)
    queue: str = Field(default="general", max_length=64)
    language: str = Field(default="en", max_length=16)


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, headers: Any, body: bytes, now: int | None = None) -> None:
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    signature = headers.get(SIGNATURE_HEADER, "")
    if not timestamp.isdigit() or not signature:
        raise WebhookError(401, "missing or malformed signature headers")
    if abs((now or now_epoch()) - int(timestamp)) > REPLAY_WINDOW:
        raise WebhookError(401, "timestamp outside the 5-minute window")
    # compare_digest: the time taken must not reveal how much of the signature matched.
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise WebhookError(401, "bad signature")


def parse(body: bytes) -> InboundMessage:
    try:
        return InboundMessage.model_validate(json.loads(body))
    except (ValueError, ValidationError) as error:
        raise WebhookError(422, f"malformed body: {error}") from None


def store_inbound(
    engine: Engine, channel: Channel, message: InboundMessage, workflow: Workflow | None = None
) -> dict[str, Any]:
    """Store the message (threaded or as a new ticket); nothing new for a repeated id."""
    who = message.customer
    item = InboundText(
        channel=channel,
        external_id=message.external_id,
        sender=Sender(who.name, email=who.email, handle=who.handle, locale=who.locale),
        text=message.text,
        subject=message.subject,
        queue=message.queue,
        language=message.language,
        thread_id=message.thread_id,
    )
    with write_tx(engine) as conn:
        return receive(conn, workflow, item)
