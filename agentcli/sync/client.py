"""The wire client: typed calls to the server's HTTP API, every answer checked before use.

A server answer is untrusted input. Shapes are checked here (a page is an object with a list,
an integer cursor and a flag; a push answer names exactly the mutations sent); the changes
themselves are checked whole too, before anything is applied (checked_changes). Failures are
raised as SyncError subclasses that say whether a retry can help.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from agentcli import __version__
from agentcli.domain.mutations import Mutation, Outcome
from agentcli.domain.wire_decode import decode_page
from agentcli.store.changes import CheckedPage, check_page, checked_page

API = "/api/v1"
# The server records it with each mutation in the ticket's audit trail.
USER_AGENT = f"agentcli/{__version__}"
DEFAULT_TIMEOUT = 30.0


class SyncError(Exception):
    """A sync call failed; `retryable` says whether trying again later can help."""

    retryable = True


class TransportError(SyncError):
    """No (complete) answer: refused, reset, timed out, or a body cut short."""


class ProtocolError(SyncError):
    """An answer that does not match the wire protocol (malformed JSON, wrong types)."""


class ServerError(SyncError):
    """The server answered 5xx."""


class RateLimited(SyncError):
    """429: wait `retry_after` seconds before the next request."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[type[RateLimited], tuple[str, float]]:
        return RateLimited, (str(self), self.retry_after)  # crosses from the pull process


class AuthError(SyncError):
    """401/403: the token is missing, unknown or not allowed; log in again."""

    retryable = False


class RequestError(SyncError):
    """Another 4xx: the server refused the request as sent."""

    retryable = False


class InsecureURL(ValueError):
    """A plain-http URL to a non-loopback host without --insecure."""


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, insecure: bool = False) -> str:
    """Normalize a server URL; plain http only to loopback unless `insecure`."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureURL(f"not an http(s) server URL: {url!r}")
    if parts.scheme == "http" and not insecure and not is_loopback(parts.hostname):
        raise InsecureURL(
            f"{url} is plain http to a non-loopback host: tokens would travel in clear text"
            " (use https://, or --insecure if you really mean it)"
        )
    return url


def retry_after_seconds(value: str | None, default: float = 1.0) -> float:
    """Retry-After as seconds (delta-seconds or an HTTP date); `default` when absent or bad."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True, slots=True)
class Page:
    changes: list[Any]  # raw: validated whole by store.changes.apply_page
    next: int
    more: bool


@dataclass(frozen=True, slots=True)
class PushResult:
    client_id: str
    outcome: Outcome
    version: int | None = None
    seq: int | None = None
    reason: str | None = None
    current: dict[str, Any] | None = None
    message_id: int | None = None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional(value: Any, check: Any, name: str) -> Any:
    if value is not None and not check(value):
        raise ProtocolError(f"push answer: {name} has the wrong type ({value!r:.60})")
    return value


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """What a Client is made from: the pull's child process opens its own with these."""

    server: str
    token: str = field(repr=False)
    insecure: bool = False
    timeout: float = DEFAULT_TIMEOUT

    def open(self) -> Client:
        return Client(self.server, self.token, insecure=self.insecure, timeout=self.timeout)


class Client:
    """One server, one token. Thread-safe (httpx.Client is); not async on purpose: the engine
    runs in a worker thread, so the TUI's event loop never waits on the network."""

    def __init__(
        self,
        server: str,
        token: str,
        *,
        insecure: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.server = check_url(server, insecure=insecure)
        self.settings = ClientSettings(self.server, token, insecure, timeout)
        # verify=True always: --insecure only permits plain http, never an unchecked TLS peer.
        self._http = httpx.Client(
            base_url=self.server + API,
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            verify=True,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- calls -------------------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        body = self._json("GET", "/me")
        if not isinstance(body, dict) or not isinstance(body.get("login"), str):
            raise ProtocolError("/me: expected an object with a login")
        return body

    def changes(self, after: int, limit: int) -> Page:
        return _page(self._json("GET", "/changes", params={"after": after, "limit": limit}))

    def checked_changes(self, after: int, limit: int) -> tuple[CheckedPage, bool]:
        """The page after cursor `after` checked whole, and whether more follow (check_body)."""
        params = {"after": after, "limit": limit}
        return check_body(self._content("GET", "/changes", params=params), after=after)

    def push(self, mutations: list[Mutation]) -> list[PushResult]:
        sent = [
            {
                "client_id": m.client_id,
                "type": str(m.type),
                "ticket_id": m.ticket_id,
                "base_version": m.base_version,
                "payload": m.payload,
            }
            for m in mutations
        ]
        body = self._json("POST", "/mutations", json={"mutations": sent})
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise ProtocolError("/mutations: `results` is not a list")
        wanted = {m.client_id for m in mutations}
        out: list[PushResult] = []
        for item in results:
            out.append(self._result(item, wanted))
        if {r.client_id for r in out} != wanted or len(out) != len(wanted):
            raise ProtocolError("/mutations: the answer does not name exactly the mutations sent")
        return out

    @staticmethod
    def _result(item: Any, wanted: set[str]) -> PushResult:
        if not isinstance(item, dict):
            raise ProtocolError("push answer: a result is not an object")
        client_id = item.get("client_id")
        if client_id not in wanted:
            raise ProtocolError(f"push answer: unknown client_id {client_id!r:.60}")
        try:
            outcome = Outcome(item.get("outcome"))
        except ValueError:
            raise ProtocolError(
                f"push answer: unknown outcome {item.get('outcome')!r:.40}"
            ) from None
        return PushResult(
            client_id=client_id,
            outcome=outcome,
            version=_optional(item.get("version"), _is_int, "version"),
            seq=_optional(item.get("seq"), _is_int, "seq"),
            reason=_optional(item.get("reason"), lambda v: isinstance(v, str), "reason"),
            current=_optional(item.get("current"), lambda v: isinstance(v, dict), "current"),
            message_id=_optional(item.get("message_id"), _is_int, "message_id"),
        )

    def events(self, *, read_timeout: float = 45.0) -> Iterator[tuple[str, dict[str, Any]]]:
        """Follow the SSE stream: yields (event, data). Ends (or raises) when it drops.

        The server sends a keep-alive every 15 s, so a silent connection past `read_timeout`
        is dead and raises TransportError."""
        timeout = httpx.Timeout(10.0, read=read_timeout)
        try:
            with self._http.stream("GET", "/events", timeout=timeout) as response:
                self._check_status(response)
                event, data = "message", ""
                for line in response.iter_lines():
                    if line == "":
                        if data:
                            yield event, _event_data(data)
                        event, data = "message", ""
                    elif line.startswith(":"):
                        continue
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data += line[5:].strip()
        except httpx.TransportError as error:
            raise TransportError(f"event stream: {_describe(error)}") from None

    def presence(self, ticket_id: int, activity: str) -> None:
        """Tell other agents this one is `viewing` or `replying` to a ticket (the server keeps
        it ~60 s and relays it over SSE as a `presence` event; re-post while still there)."""
        try:
            response = self._http.post(
                "/presence", json={"ticket_id": ticket_id, "activity": activity}
            )
        except httpx.TransportError as error:
            raise TransportError(f"POST /presence: {_describe(error)}") from None
        self._check_status(response)  # 204: no body to parse

    def present(self) -> list[dict[str, Any]]:
        """Who is viewing or replying to which ticket now: [{agent, ticket_id, activity, at}]."""
        body = self._json("GET", "/presence")
        fields = (("agent", str), ("ticket_id", int), ("activity", str), ("at", int))
        if not isinstance(body, list) or not all(
            isinstance(item, dict) and all(_of_type(item.get(k), t) for k, t in fields)
            for item in body
        ):
            raise ProtocolError("/presence: expected a list of {agent, ticket_id, activity, at}")
        return body

    def head(self) -> int | None:
        """The server's newest seq (from the event stream's hello), for progress; None if
        the stream does not say."""
        try:
            for event, data in self.events(read_timeout=10.0):
                if event == "hello":
                    seq = data.get("seq")
                    return seq if _is_int(seq) else None
                return None
        except SyncError:
            return None
        return None

    # --- plumbing ----------------------------------------------------------------------

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return _decode(method, path, self._content(method, path, **kwargs))

    def _content(self, method: str, path: str, **kwargs: Any) -> bytes:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise TransportError(f"{method} {path}: {_describe(error)}") from None
        self._check_status(response)
        return response.content

    @staticmethod
    def _check_status(response: httpx.Response) -> None:
        status = response.status_code
        if status < 300:
            return
        if not response.is_stream_consumed:
            with contextlib.suppress(httpx.HTTPError):
                response.read()
        where = f"{response.request.method} {response.request.url.path}"
        detail = _detail(response)
        if status in (401, 403):
            raise AuthError(f"{where}: {status} {detail}")
        if status == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            raise RateLimited(f"{where}: 429 rate limited, retry after {wait:.1f}s", wait)
        if status >= 500:
            raise ServerError(f"{where}: {status} {detail}")
        raise RequestError(f"{where}: {status} {detail}")


def _of_type(value: object, kind: type) -> bool:
    return _is_int(value) if kind is int else isinstance(value, kind)


def _decode(method: str, path: str, content: bytes) -> Any:
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError) as error:
        raise ProtocolError(f"{method} {path}: malformed JSON ({error})") from None


def _page(body: Any) -> Page:
    if not isinstance(body, dict):
        raise ProtocolError("/changes: expected an object")
    changes, cursor, more = body.get("changes"), body.get("next"), body.get("more")
    if not isinstance(changes, list):
        raise ProtocolError("/changes: `changes` is not a list")
    if not _is_int(cursor):
        raise ProtocolError("/changes: `next` is not an integer")
    if not isinstance(more, bool):
        raise ProtocolError("/changes: `more` is not true/false")
    if more and not changes:
        raise ProtocolError("/changes: an empty page that claims more (would loop)")
    return Page(changes, cursor, more)


def check_body(content: bytes, *, after: int) -> tuple[CheckedPage, bool]:
    """A /changes answer following cursor `after`, checked whole (store.changes.check_page),
    and whether more follow. A well-formed page is decoded and checked in one pass
    (wire_decode); any other goes the step-by-step way, which raises the ProtocolError or
    WireError naming its problem."""
    fast = decode_page(content, after=after)
    if fast is not None:
        changes, cursor, more = fast
        return checked_page(changes, cursor, after=after), more
    page = _page(_decode("GET", "/changes", content))
    return check_page(page.changes, page.next, after=after), page.more


def _event_data(data: str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _detail(response: httpx.Response) -> str:
    try:
        body = json.loads(response.content)
        if isinstance(body, dict) and "detail" in body:
            return str(body["detail"])[:200]
    except (ValueError, httpx.HTTPError):
        pass
    return response.reason_phrase


def _describe(error: httpx.TransportError) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
