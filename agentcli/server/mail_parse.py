"""Inbound mail -> the parts a ticket needs, with the stdlib `email` package.

Body: the text/plain alternative when there is one, else the HTML stripped to text.
Charsets are decoded by their declared name, widened to the superset mail clients really
use under that label (GB2312-labelled mail is routinely GBK, Big5 is often Big5-HKSCS), so
a character outside the strict table does not turn the body into replacement marks.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.utils import parseaddr
from html import unescape
from html.parser import HTMLParser

# Labels mail software sends -> the codec that decodes what is really inside.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "us-ascii": "utf-8",
}
TICKET_TAG = re.compile(r"\[#(\d{1,18})\]")
_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass
class ParsedMail:
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    subject: str
    sender_name: str
    sender_email: str
    text: str
    language: str
    ticket_hint: int | None

    @property
    def thread_refs(self) -> list[str]:
        # In-Reply-To names the message answered; References the thread, oldest first.
        return [*self.in_reply_to, *reversed(self.references)]


class MailError(ValueError):
    """Not a mail we can file (no sender, no body)."""


def parse_mail(raw: bytes, *, fallback_id: str) -> ParsedMail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    name, address = parseaddr(str(message.get("from", "")))
    if "@" not in address:
        raise MailError("no sender address")
    subject = " ".join(str(message.get("subject", "")).split())
    text, charset = _body(message)
    if not text.strip() and not subject:
        raise MailError("empty mail")
    hint = TICKET_TAG.search(subject)
    return ParsedMail(
        message_id=next(iter(_ids(message.get("message-id"))), fallback_id),
        in_reply_to=_ids(message.get("in-reply-to")),
        references=_ids(message.get("references")),
        subject=subject or text.strip().splitlines()[0][:80],
        sender_name=name or address.split("@")[0],
        sender_email=address.lower(),
        text=text.strip() or subject,
        language=guess_language(text + subject, charset),
        ticket_hint=int(hint.group(1)) if hint else None,
    )


def _ids(header: object) -> list[str]:
    return _MSGID.findall(str(header)) if header else []


def _body(message: EmailMessage) -> tuple[str, str]:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return "", ""
    charset = (part.get_content_charset() or "utf-8").lower()
    text = decode_part(part, charset)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text, charset


def decode_part(part: Message, charset: str) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(part.get_payload())
    codec = _SUPERSETS.get(charset, charset)
    try:
        return payload.decode(codec, errors="replace")
    except LookupError:  # an unknown charset label: UTF-8 is the best guess today
        return payload.decode("utf-8", errors="replace")


def guess_language(text: str, charset: str = "") -> str:
    """A coarse guess for routing: script first, charset label for Chinese variants."""
    if re.search(r"[\u4e00-\u9fff]", text):
        traditional = charset.startswith("big5") or re.search(r"[們這個為與說貨還]", text)
        return "zh-TW" if traditional else "zh-CN"
    if re.search(r"[\u0400-\u04ff]", text):
        return "uk"
    return "en"


_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote", "table"})


class _Stripper(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    stripper = _Stripper()
    stripper.feed(html)
    stripper.close()
    lines = (" ".join(line.split()) for line in unescape("".join(stripper.parts)).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
