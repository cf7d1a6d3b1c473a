"""The sync engine: push the outbox, pull the change feed, settle answers, retry with backoff.

Plain functions and one class over an open store and a Client, so it runs the same in
`agentcli sync` (main thread) and as the TUI's background worker (`live.SyncWorker`, one
thread that owns its own SQLite connection). Crash safety comes from the store, not from
here: each pulled page is applied with its cursor in one transaction, each answer settles in
one transaction, and mutation ids make a re-sent push a "duplicate" with the original answer,
so after a `kill -9` the next run resumes from the stored cursor and outbox.

Order in a cycle: push, then pull (then push anything queued meanwhile). Pushing first means
a reply whose answer was lost is settled as a duplicate — learning its server message id —
before the pull brings the server's copy, so the thread never shows it twice.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlite_utils

from agentcli.domain.wire import WireError
from agentcli.store.changes import apply_page, read_cursor
from agentcli.store.db import transaction
from agentcli.store.outbox import mutation_of, note_attempt, push_batch, queued_count, settle_in
from agentcli.sync.client import Client, Page, ProtocolError, RateLimited, SyncError
from agentcli.sync.status import record_error, record_success

log = logging.getLogger("agentcli.sync")


@dataclass
class SyncConfig:
    page_size: int = 1000  # the server's maximum
    push_batch: int = 500  # the server's maximum: the server's per-request cost dominates a drain
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    poll_interval: float = 30.0  # between cycles when no live nudge comes
    max_push_rounds: int = 10_000  # a guard against a server that never settles anything


@dataclass
class Progress:
    """Pull progress for a progress bar: counts so far and the server's head, if known."""

    start_cursor: int = 0
    cursor: int = 0
    head: int | None = None
    changes: int = 0
    tickets: int = 0
    messages: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.changes / elapsed if elapsed > 0 else 0.0

    @property
    def total(self) -> int | None:
        """Changes expected in this pull (seqs are dense enough to estimate with)."""
        if self.head is None:
            return None
        return max(self.head - self.start_cursor, self.changes)


@dataclass
class SyncReport:
    pushed: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    pulled: int = 0
    cursor: int = 0


def backoff_delay(attempt: int, config: SyncConfig, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: uniform in [half, full] of min(cap, base * 2^attempt),
    so many clients coming back after an outage do not retry in lockstep."""
    ceiling = min(config.backoff_cap, config.backoff_base * 2**attempt)
    return (rng or random).uniform(ceiling / 2, ceiling)


class Engine:
    def __init__(
        self,
        db: sqlite_utils.Database,
        client: Client,
        config: SyncConfig | None = None,
        *,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.config = config or SyncConfig()
        self.on_progress = on_progress

    # --- push -------------------------------------------------------------------------

    def push(self, report: SyncReport | None = None) -> SyncReport:
        """Send queued mutations in batches (in order per ticket) until none are queued."""
        report = report or SyncReport()
        for _ in range(self.config.max_push_rounds):
            rows = push_batch(self.db, self.config.push_batch)
            if not rows:
                return report
            ids = [row["client_id"] for row in rows]
            try:
                results = self.client.push([mutation_of(row) for row in rows])
            except SyncError as error:
                note_attempt(self.db, ids, str(error))
                raise
            # All answers of a batch settle in one transaction: one fsync, and a crash keeps
            # either all or none (none: the re-sent batch is answered "duplicate").
            with transaction(self.db) as conn:
                for result in results:
                    settle_in(
                        conn,
                        result.client_id,
                        result.outcome,
                        result.reason,
                        version=result.version,
                        message_id=result.message_id,
                        current=result.current,
                    )
            report.pushed += len(results)
            for result in results:
                key = str(result.outcome)
                report.outcomes[key] = report.outcomes.get(key, 0) + 1
        raise ProtocolError("push: the outbox does not drain (the server settles nothing)")

    # --- pull -------------------------------------------------------------------------

    def pull(self, report: SyncReport | None = None, *, head: int | None = None) -> SyncReport:
        """Apply pages after the stored cursor until the server has no more.

        The next page is fetched while this one is applied (one fetcher thread, two pages
        ahead at most): network and SQLite work overlap, which is what lets a first sync
        keep up with the server's own pull rate.
        """
        report = report or SyncReport()
        after = read_cursor(self.db)
        progress = Progress(start_cursor=after, cursor=after, head=head)
        pages: queue.Queue[Page | BaseException | None] = queue.Queue(maxsize=2)
        stop = threading.Event()
        fetcher = threading.Thread(
            target=self._fetch, args=(after, pages, stop), name="agentcli-pull", daemon=True
        )
        fetcher.start()
        try:
            while True:
                item = pages.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                try:
                    applied = apply_page(self.db, item.changes, item.next)
                except WireError as error:
                    log.warning("page after cursor %s rejected: %s", read_cursor(self.db), error)
                    raise
                report.pulled += applied
                progress.changes += applied
                progress.cursor = item.next
                for change in item.changes:
                    kind = change.get("kind")
                    progress.tickets += kind == "ticket"
                    progress.messages += kind == "message"
                if self.on_progress is not None:
                    self.on_progress(progress)
                if not item.more:
                    break
        finally:
            stop.set()
            while fetcher.is_alive():  # unblock a fetcher waiting on a full queue
                try:
                    pages.get_nowait()
                except queue.Empty:
                    fetcher.join(timeout=0.05)
        report.cursor = read_cursor(self.db)
        return report

    def _fetch(
        self, after: int, pages: queue.Queue[Page | BaseException | None], stop: threading.Event
    ) -> None:
        def put(item: Page | BaseException | None) -> bool:
            while not stop.is_set():
                try:
                    pages.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            cursor = after
            while not stop.is_set():
                page = self.client.changes(cursor, self.config.page_size)
                if not put(page) or not page.more or page.next <= cursor:
                    break  # a cursor that does not advance is rejected when applied
                cursor = page.next
            put(None)
        except BaseException as error:  # handed to the applying thread, which raises it
            put(error)

    # --- one cycle --------------------------------------------------------------------

    def sync_once(self, *, head: int | None = None) -> SyncReport:
        """Push, pull, push again if the user queued more meanwhile; record the status."""
        report = SyncReport()
        try:
            self.push(report)
            self.pull(report, head=head)
            if queued_count(self.db):
                self.push(report)
        except SyncError as error:
            record_error(self.db, str(error), online=isinstance(error, RateLimited))
            raise
        except WireError as error:
            # The server answered, wrongly: we are online, the page is refused whole.
            record_error(self.db, f"page rejected: {error}", online=True)
            raise
        record_success(self.db)
        return report


def run_loop(
    engine: Engine,
    stop: threading.Event,
    nudge: threading.Event,
    *,
    on_cycle: Callable[[SyncReport | None, BaseException | None], None] | None = None,
    rng: random.Random | None = None,
) -> None:
    """Sync until `stop`: a cycle, then wait for a nudge (live event, new local change) or the
    poll interval; after a failure, back off with jitter (or as long as 429 asked)."""
    attempt = 0
    while not stop.is_set():
        nudge.clear()
        error: BaseException | None = None
        report: SyncReport | None = None
        try:
            report = engine.sync_once()
            attempt = 0
            wait = engine.config.poll_interval
        except RateLimited as limited:
            error, wait = limited, limited.retry_after
        except (SyncError, WireError) as failure:
            error = failure
            if isinstance(failure, SyncError) and not failure.retryable:
                log.error("sync stopped: %s", failure)
                if on_cycle is not None:
                    on_cycle(None, failure)
                return
            wait = backoff_delay(attempt, engine.config, rng)
            attempt += 1
            log.info("sync failed (%s); retrying in %.1fs", failure, wait)
        if on_cycle is not None:
            on_cycle(report, error)
        if error is None:
            nudge.wait(wait)
        else:
            stop.wait(wait)  # a nudge must not cut a backoff short: that would hammer
