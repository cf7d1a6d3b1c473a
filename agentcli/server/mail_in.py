"""The SMTP listener (aiosmtpd) that turns inbound mail into tickets and threaded replies.

aiosmtpd runs its own event loop in its own thread; each DATA is parsed and stored in a
worker thread (SQLAlchemy is synchronous) so one slow commit never stalls other sessions.
The 250 reply is sent only after the commit: if storing fails we answer 451 and the sending
MTA keeps the mail and retries, so a database outage does not lose mail either.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import anyio
from aiosmtpd.controller import Controller
from sqlalchemy import Engine

from agentcli.domain.vocabulary import Channel
from agentcli.server.db import write_tx
from agentcli.server.inbound import InboundText, Sender, receive
from agentcli.server.mail_parse import MailError, parse_mail
from agentcli.server.services import Poke
from agentcli.server.workflow import Workflow

log = logging.getLogger("agentcli.server.mail")
MAX_MAIL_BYTES = 25 * 1024 * 1024


def store_mail(
    engine: Engine, workflow: Workflow | None, raw: bytes, queue: str = "general"
) -> dict[str, Any]:
    """Parse and store one mail (a new ticket, or a message threaded onto its ticket)."""
    mail = parse_mail(raw, fallback_id=f"<{uuid.uuid4().hex}@agentcli.invalid>")
    item = InboundText(
        channel=Channel.EMAIL,
        external_id=mail.message_id,
        sender=Sender(mail.sender_name, email=mail.sender_email, locale=mail.language),
        text=mail.text,
        subject=mail.subject,
        queue=queue,
        language=mail.language,
        thread_id=mail.message_id,  # a new ticket is filed under its first Message-ID
        thread_refs=mail.thread_refs,
        ticket_hint=mail.ticket_hint,
    )
    with write_tx(engine) as conn:
        return receive(conn, workflow, item)


@dataclass
class _Handler:
    engine: Engine
    workflow: Workflow | None
    queue: str
    poke: Poke | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            result = await anyio.to_thread.run_sync(
                store_mail, self.engine, self.workflow, raw, self.queue
            )
        except MailError as error:
            return f"550 5.6.0 cannot file this mail: {error}"
        except Exception:
            log.exception("storing inbound mail failed")
            return "451 4.3.0 temporary failure, try again later"
        if self.poke is not None:
            self.poke()
        log.info("mail %s -> ticket %s", result["message_id"], result["ticket_id"])
        return "250 2.0.0 OK"


class SmtpListener:
    """`agentcli serve --smtp-port N`: accept mail for the helpdesk on host:N."""

    def __init__(
        self,
        engine: Engine,
        workflow: Workflow | None,
        host: str,
        port: int,
        queue: str = "general",
    ) -> None:
        self.handler = _Handler(engine, workflow, queue)
        self.controller = Controller(
            self.handler,
            hostname=host,
            port=port,
            data_size_limit=MAX_MAIL_BYTES,
            decode_data=False,
        )

    async def start(self, poke: Poke) -> None:
        self.handler.poke = poke
        await anyio.to_thread.run_sync(self.controller.start)

    async def stop(self) -> None:
        await anyio.to_thread.run_sync(self.controller.stop)
