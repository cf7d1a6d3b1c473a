"""Deterministic after-sale demo data as plain row tuples, ready for `executemany` (no I/O).

`generate(n, seed=..., now=..., start=...)` yields `Batch`es of rows for the customers,
orders, tickets, ticket_tags, messages and search_index tables. The same seed and ticket
count give the same content (texts, choices, offsets); times are relative to `now` and ids
start at `start`, so a seed can be appended to a non-empty store.

Speed matters (the seeder writes a million tickets): all phrase material is compiled once
into whole-message templates (greeting + body + sign-off) together with their search-index
form, so each message costs at most two `str.format_map` calls (none for a template without
slots) and no regex work. That works because `index_text` is per character:
index_text(a + b) == index_text(a) + index_text(b).
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from math import floor
from typing import Any, TypeVar

from agentcli.demo import corpus
from agentcli.domain.cases import RESOLUTION_FOR_TYPE, RETURNS_GOODS, CaseType
from agentcli.domain.clock import SLA_NEVER
from agentcli.domain.text import CJK_CHAR, index_text, index_words

T = TypeVar("T")
Row = tuple[Any, ...]
# A template: (raw text, search-index form or None when the language has no CJK).
Tpl = tuple[str, str | None]
# A carrier: (stored name, local name, its index form, tracking number %-format and modulus
# (_number_format), whether the format also takes 6 letters and digits first (UPS)).
Carrier = tuple[str, str, str, str, int, bool]

HOUR = 3600
DAY = 24 * HOUR
SPAN = 60 * DAY  # tickets were created over the last ~60 days

# Column orders of the generated tuples (the bulk writer builds its INSERTs from these).
# tickets.version and tickets.pending / messages.pending take their defaults (1, 0, 0).
AGENT_COLUMNS = ("login", "name", "role", "languages", "capacity", "queues", "active")
CUSTOMER_COLUMNS = ("id", "name", "locale", "tier", "email", "phone", "handles")
ORDER_COLUMNS = (
    "id", "number", "customer_id", "items", "total", "currency", "placed_at",
    "carrier", "tracking_number", "shipped_at", "delivered_at",
)  # fmt: skip
TICKET_COLUMNS = (
    "id", "subject", "status", "priority", "channel", "queue", "assignee", "requester_id",
    "language", "tags", "order_id", "case_type", "case_state", "created_at", "updated_at",
    "first_reply_due", "next_reply_due", "resolution_due", "sla_due", "snoozed_until",
    "last_message_id",
)  # fmt: skip
TICKET_TAG_COLUMNS = ("tag", "ticket_id")
MESSAGE_COLUMNS = (
    "id", "ticket_id", "kind", "author_kind", "author", "channel", "body", "created_at",
)  # fmt: skip
SEARCH_COLUMNS = ("rowid", "text")

# SLA targets by priority rank (low, normal, high, urgent).
FIRST_REPLY = (24 * HOUR, 8 * HOUR, 4 * HOUR, 1 * HOUR)
NEXT_REPLY = (24 * HOUR, 12 * HOUR, 6 * HOUR, 2 * HOUR)
RESOLUTION = (5 * DAY, 3 * DAY, 2 * DAY, 1 * DAY)

# Status mix by ticket age: recent tickets are still being worked, old ones mostly closed.
_STATUS_BY_AGE: tuple[tuple[int, dict[str, int]], ...] = (
    (2 * HOUR, {"new": 55, "open": 30, "pending": 10, "solved": 5}),
    (DAY, {"new": 20, "open": 35, "pending": 25, "on-hold": 5, "solved": 15}),
    (7 * DAY, {"new": 4, "open": 16, "pending": 20, "on-hold": 10, "solved": 35, "closed": 15}),
    (SPAN * 2, {"new": 1, "open": 6, "pending": 8, "on-hold": 5, "solved": 20, "closed": 160}),
)
# How long the conversation of a ticket in each status has been going on, at most.
_ACTIVITY_SPAN = {
    "new": 3 * HOUR,
    "open": 2 * DAY,
    "pending": 3 * DAY,
    "on-hold": 4 * DAY,
    "solved": 5 * DAY,
    "closed": 8 * DAY,
}

_PRIORITY_MIX = {"low": 15, "normal": 60, "high": 20, "urgent": 5}
_PRIORITY_BY_SCENARIO = {
    "complaint": {"normal": 30, "high": 50, "urgent": 20},
    "double_charge": {"normal": 40, "high": 50, "urgent": 10},
    "presale": {"low": 60, "normal": 40},
}
_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}

# Order numbers as each market's platforms print them: (prefix, digits, how customers quote it).
_ORDER_FORMAT = {
    "zh-CN": ("4", 18, "%s"),
    "zh-TW": ("TW", 12, "%s"),
    "uk": ("3", 8, "№%s"),
    "en": ("1", 6, "#%s"),
}

# Case states plausible for each ticket status, by whether goods travel back (weights).
_CASE_STATES: dict[tuple[str, bool], dict[str, int]] = {
    ("new", True): {"requested": 1},
    ("new", False): {"requested": 1},
    ("open", True): {"requested": 5, "approved": 2, "awaiting-return": 1, "received": 1,
                     "rejected": 1},
    ("open", False): {"requested": 6, "approved": 3, "rejected": 1},
    ("pending", True): {"requested": 3, "approved": 3, "awaiting-return": 4},
    ("pending", False): {"requested": 5, "approved": 5},
    ("on-hold", True): {"approved": 3, "awaiting-return": 3, "received": 4},
    ("on-hold", False): {"requested": 4, "approved": 6},
    ("solved", True): {"resolved": 85, "rejected": 15},
    ("solved", False): {"resolved": 90, "rejected": 10},
    ("closed", True): {"closed": 50, "resolved": 42, "rejected": 8},
    ("closed", False): {"closed": 50, "resolved": 45, "rejected": 5},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class StartIds:
    """First id to use per table (max existing id + 1 when appending)."""

    customer: int = 1
    order: int = 1
    ticket: int = 1
    message: int = 1


@dataclass(slots=True)
class Batch:
    """Rows for one slice of tickets, in the column orders above."""

    customers: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    tickets: list[Row] = field(default_factory=list)
    ticket_tags: list[Row] = field(default_factory=list)
    messages: list[Row] = field(default_factory=list)
    search: list[Row] = field(default_factory=list)
    # The batch's distinct words for search_words, as (word,) rows (see text.index_words), and
    # the texts whose words only SQLite can tell (none from today's corpus); None until
    # extract_words has run (generate(words=False) leaves that to the consumer).
    search_words: list[Row] | None = None
    unsure_texts: list[str] = field(default_factory=list)
    # The batch's tickets counted per (status, assignee, queue), as (status, assignee, queue,
    # n) rows: what view_counts' triggers would add (the bulk writer drops them while loading).
    view_counts: list[Row] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return (
            len(self.customers) + len(self.orders) + len(self.tickets)
            + len(self.ticket_tags) + len(self.messages) + len(self.search)
            + len(self.search_words or ())
        )  # fmt: skip


def extract_words(batch: Batch) -> None:
    """Fill the batch's search_words and unsure_texts from its messages and subjects.

    The words of subject + body are those of the subject and of the body: raw text is cheaper
    to split than the indexed form (see index_words).
    """
    words, batch.unsure_texts = index_words(
        [row[6] for row in batch.messages] + [row[1] for row in batch.tickets]
    )
    batch.search_words = [(word,) for word in sorted(words)]


def agent_rows() -> list[Row]:
    """The demo team: agents and supervisors with languages, capacity and queues."""
    return [(*agent, 1) for agent in corpus.AGENTS]


def generate(
    tickets: int,
    *,
    seed: int = 0,
    now: int,
    start: StartIds | None = None,
    batch_size: int = 10_000,
    words: bool = True,
) -> Iterator[Batch]:
    """Yield batches of rows for `tickets` demo tickets created over the ~60 days before `now`;
    `words=False` leaves the batches' search words to the caller (extract_words)."""
    gen = _Generator(seed, now, start or StartIds(), tickets)
    done = 0
    while done < tickets:
        size = min(batch_size, tickets - done)
        batch = gen.batch(done, size)
        if words:
            extract_words(batch)
        yield batch
        done += size


# ---------------------------------------------------------------------------------------
# Compiled phrase tables


def _tpl(text: str, cjk: bool) -> Tpl:
    return (text, index_text(text) if cjk else None)


def _expand(weights: dict[T, float] | Sequence[tuple[T, float]], size: int = 200) -> list[T]:
    """A list where each item appears in proportion to its weight: O(1) weighted picks."""
    pairs = list(weights.items()) if isinstance(weights, dict) else list(weights)
    total = sum(w for _, w in pairs)
    table: list[T] = []
    for item, weight in pairs:
        table.extend([item] * max(1, round(size * weight / total)))
    return table


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:] if text[:1] != "{" else text


_CJK_TEXT = re.compile(CJK_CHAR.pattern)
_CJK_SENTENCE_END = tuple("。！？～!?")


def _join(greeting: str, body: str, signoff: str) -> str:
    """Greeting + body + sign-off; the body starts a sentence unless the greeting ends in ','."""
    if greeting.rstrip().endswith(","):
        if not body.startswith(("I ", "I'", "{")):
            body = body[:1].lower() + body[1:]
    else:
        body = _capitalize(body)
    return f"{greeting}{body}{_separated(body, signoff)}"


def _separated(body: str, signoff: str) -> str:
    """A Chinese sign-off after a body that doesn't end a sentence needs a "，" before it."""
    if signoff and _CJK_TEXT.match(signoff) and body[-1:] not in _CJK_SENTENCE_END:
        return "，" + signoff
    return signoff


_index_part = functools.cache(index_text)


def _combos(
    greetings: Sequence[str], bodies: Sequence[str], signoffs: Sequence[str], cjk: bool
) -> list[Tpl]:
    """Every greeting x body x sign-off, as whole-message templates (more variety, one format).

    Chinese has no capitals, so its index form is the concatenation of the parts' (cached).
    """
    if not cjk:
        return [(_join(g, b, s), None) for b in bodies for g in greetings for s in signoffs]
    return [
        (g + b + s, _index_part(g) + _index_part(b) + _index_part(s))
        for b in bodies
        for g in greetings
        for s in [_separated(b, signoff) for signoff in signoffs]
    ]


def _price_variants(cny: int, lang: str) -> list[int]:
    """Three plausible shelf prices (in minor units) for a CNY list price in `lang`'s currency."""
    out = []
    for factor in (0.9, 1.0, 1.12):
        value = cny * corpus.PRICE_RATE[lang] * factor
        if lang == "en":
            cents = max(1, round(value)) * 100 - 1  # $55.99
        elif lang == "uk":
            cents = (max(1, round(value / 10)) * 10 - 1) * 100  # 2 239 грн
        elif lang == "zh-TW":
            cents = max(1, round(value / 10)) * 1000 - 1000 + 900  # NT$1,790
        else:
            cents = (int(value) // 10 * 10 + 9) * 100  # 399元
        out.append(cents)
    return out


def _amount_formatter(lang: str) -> Callable[[int], str]:
    """How amounts read in text for each market (minor units in)."""
    if lang == "zh-CN":
        return lambda c: f"{c // 100}元" if c % 100 == 0 else f"{c // 100}.{c % 100:02d}元"
    if lang == "zh-TW":
        return lambda c: f"NT${c // 100:,}"
    if lang == "uk":
        return lambda c: f"{c // 100:,}".replace(",", "\u00a0") + " грн"
    return lambda c: f"${c // 100:,}.{c % 100:02d}"


def _number_format(head: str, digits: int) -> tuple[str, int]:
    """A %-format for `head` (a prefix, maybe with a %s) then `digits` random digits, and the
    modulus that cuts 64 random bits to them (digits <= 18: bias negligible)."""
    return f"{head}%0{digits}d", 10**digits


@functools.cache  # order totals are sums of a few shelf prices
def _decimal(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _signature(name: str, login: str, lang: str) -> str:
    """How an agent signs a reply in `lang`: in English, non-Latin names as their login's
    romanization (张伟 -> Zhang Wei, Олена Коваль -> Olena Koval); Chinese replies aren't signed."""
    if CJK_CHAR.search(name) or (lang == "en" and not name.isascii()):
        return " ".join(part.capitalize() for part in login.split("."))
    return name


@dataclass(slots=True)
class _Product:
    sku: str
    category: str
    name: str
    name_idx: str
    prices: list[int]
    # Order-item JSON per price variant, for quantity 1 and 2 (built once, not per order).
    items: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.items = [
            tuple(  # type: ignore[misc]
                f'{{"sku":"{self.sku}","title":"{self.name}","quantity":{q},'
                f'"unit_price":"{_decimal(price)}"}}'
                for q in (1, 2)
            )
            for price in self.prices
        ]


@dataclass(slots=True)
class _Scenario:
    key: str
    queue: str
    delivered: bool
    case_types: list[str | None]
    tags: tuple[str, ...]
    priorities: list[int]  # ranks (_RANK)
    subjects: list[Tpl]
    openers: list[Tpl]
    agent_first: list[Tpl]
    followups: list[Tpl]


@dataclass(slots=True)
class _Agent:
    login: str
    note_lang: str
    signature: str


@dataclass(slots=True)
class _Lang:
    """Everything needed to write one market's tickets, precompiled."""

    code: str
    cjk: bool
    currency: str
    amount: Callable[[int], str]
    amount_index: Callable[[str], str]  # index form of an amount text (元 is CJK)
    products: list[_Product]
    defects: dict[str, list[tuple[str, str]]]
    carriers: list[Carrier]
    weekdays: list[tuple[str, str]]
    channels: list[str]
    scenarios: list[_Scenario]
    agents_by_queue: dict[str, list[_Agent]]
    nudges: list[Tpl]
    waiting: list[Tpl]
    thanks: list[Tpl]
    notes: list[Tpl]
    resolution: dict[str, list[Tpl]]
    extra_tags: tuple[str, ...]
    family: tuple[str, ...]
    given: tuple[str, ...]
    stems: tuple[str, ...]
    domains: tuple[str, ...]
    handle_kind: str
    order_number: tuple[str, int]  # (_number_format)
    order_quote: str
    # amount in minor units -> (text, index form); totals come from a small set of prices.
    amounts: dict[int, tuple[str, str]] = field(default_factory=dict)

    def amount_texts(self, cents: int) -> tuple[str, str]:
        text = self.amount(cents)
        self.amounts[cents] = pair = (text, self.amount_index(text))
        return pair


def _compile_agents(lang: str) -> dict[str, list[_Agent]]:
    """Agents who speak `lang`, per queue they work (plus "*": all of them)."""
    by_queue: dict[str, list[_Agent]] = {"*": []}
    for login, name, role, languages, _cap, queues in corpus.AGENTS:
        langs = languages.split(",")
        if role == "admin" or lang not in langs:
            continue
        agent = _Agent(login, langs[0], _signature(name, login, lang))
        by_queue["*"].append(agent)
        for queue in queues.split(","):
            by_queue.setdefault(queue, []).append(agent)
    return by_queue


def _compile_scenario(raw: dict, lang: str, cjk: bool) -> _Scenario:
    greetings = corpus.CUSTOMER_GREETINGS[lang]
    signoffs = corpus.CUSTOMER_SIGNOFFS[lang]
    agent_greetings = corpus.AGENT_GREETINGS[lang]
    agent_signoffs = corpus.AGENT_SIGNOFFS[lang]
    return _Scenario(
        key=raw["key"],
        queue=raw["queue"],
        delivered=raw["delivered"],
        case_types=_expand(raw["case_types"], 20),
        tags=raw["tags"][lang],
        priorities=[
            _RANK[p] for p in _expand(_PRIORITY_BY_SCENARIO.get(raw["key"], _PRIORITY_MIX), 40)
        ],
        subjects=[_tpl(_capitalize(s), cjk) for s in raw["subject"][lang]],
        openers=_combos(greetings, raw["opener"][lang], signoffs, cjk),
        agent_first=_combos(agent_greetings, raw["agent_first"][lang], agent_signoffs, cjk),
        followups=[_tpl(_capitalize(f), cjk) for f in raw["followup"][lang]],
    )


def _compile_lang(lang: str) -> _Lang:
    cjk = lang.startswith("zh")
    li = corpus.LANGS.index(lang)
    products = [
        _Product(f"{prefix}-{1000 + 37 * n}", category, names[li], index_text(names[li]),
                 _price_variants(cny, lang))
        for n, (prefix, category, names, cny) in enumerate(corpus.PRODUCTS)
    ]  # fmt: skip
    carriers = []
    for stored, local, fmt, weight in corpus.CARRIERS[lang]:
        ups = "@" in fmt
        prefix, n = fmt.split("@" if ups else "#")
        # UPS: 1Z + shipper account (6 letters and digits) + service code 03 + package number.
        number, modulus = _number_format(prefix + "%s03" if ups else prefix, int(n) - 8 * ups)
        carriers.extend([(stored, local, index_text(local), number, modulus, ups)] * weight)
    agent_greetings = corpus.AGENT_GREETINGS[lang]
    agent_signoffs = corpus.AGENT_SIGNOFFS[lang]
    family, given, stems = corpus.NAMES[lang]
    prefix, digits, quote = _ORDER_FORMAT[lang]
    return _Lang(
        code=lang,
        cjk=cjk,
        currency=corpus.CURRENCY[lang],
        amount=_amount_formatter(lang),
        amount_index=(lambda text: text.replace("元", " 元 ")) if lang == "zh-CN" else str,
        products=products,
        defects={
            cat: [(d[li], index_text(d[li])) for d in defects]
            for cat, defects in corpus.DEFECTS.items()
        },
        carriers=carriers,
        weekdays=[(w[li], index_text(w[li])) for w in corpus.WEEKDAYS],
        channels=_expand(corpus.CHANNEL_WEIGHTS[lang]),
        scenarios=_expand(
            [(_compile_scenario(s, lang, cjk), s["weight"]) for s in corpus.SCENARIOS], 400
        ),
        agents_by_queue=_compile_agents(lang),
        nudges=[_tpl(n, cjk) for n in corpus.NUDGES[lang]],
        waiting=_combos(agent_greetings, corpus.AGENT_WAITING[lang], agent_signoffs, cjk),
        thanks=[_tpl(t, cjk) for t in corpus.THANKS[lang]],
        notes=[_tpl(n, cjk) for n in corpus.NOTES[lang]],
        resolution={
            key: _combos(agent_greetings, texts[lang], agent_signoffs, cjk)
            for key, texts in corpus.RESOLUTION.items()
        },
        extra_tags=corpus.EXTRA_TAGS[lang],
        family=family,
        given=given,
        stems=stems,
        domains=corpus.EMAIL_DOMAINS[lang],
        handle_kind=corpus.HANDLE_KIND[lang],
        order_number=_number_format(prefix, digits),
        order_quote=quote,
    )


_LANGS: dict[str, _Lang] = {}
_NOTES_BY_LANG: dict[str, list[Tpl]] = {}


def _tables() -> dict[str, _Lang]:
    """Compile the phrase tables on first use (a few ms), not at import time."""
    if not _LANGS:
        for lang in corpus.LANGS:
            _LANGS[lang] = _compile_lang(lang)
            _NOTES_BY_LANG[lang] = _LANGS[lang].notes
    return _LANGS


# ---------------------------------------------------------------------------------------
# The generator


# A customer: (id, name, first name, tier). A plain tuple rather than a class: the garbage
# collector stops tracking tuples of strings and ints, while thousands of recent customers as
# objects kept growing its oldest generation and set off a full collection every batch.
_Customer = tuple[int, str, str, str]


class _Generator:
    """Carries the random stream and id counters across batches.

    The per-ticket path is written for speed (a million tickets): picks are inlined as
    `seq[floor(r() * len(seq))]` instead of a helper call (floor, not int(): the same on the
    non-negative numbers here, and int() is a slow type call on CPython 3.11, ~45 a ticket;
    min() and max() are slow calls there too, so they are written as comparisons), digit
    strings come from one `getrandbits` formatted with a precomputed "prefix%0Nd", and
    everything that depends only on a small set of values (order-item JSON, amount texts, tag
    JSON, decimal totals, resolution keys) is built once and cached.
    """

    def __init__(self, seed: int, now: int, start: StartIds, total: int) -> None:
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.bits = self.rng.getrandbits
        self.now = now
        self.total = total
        self.langs = _tables()
        self.lang_table = [self.langs[code] for code in _expand(corpus.LANGUAGE_WEIGHTS)]
        self.tiers = _expand(corpus.TIERS)
        *young, (_, old) = [(age, _expand(mix)) for age, mix in _STATUS_BY_AGE]
        # Most tickets are older than the last young limit (a week): one comparison for them.
        self.young_status_tables = young
        self.young_limit = young[-1][0]
        self.old_status_table = old
        mixes = {key: _expand(mix, 40) for key, mix in _CASE_STATES.items()}
        # Looked up by status and case type (whether goods travel back picks the mix).
        self.case_state_tables = {
            status: {str(t): mixes[(status, str(t) in _RETURNS_GOODS)] for t in CaseType}
            for status, _ in mixes
        }
        self.next_customer = start.customer
        self.next_order = start.order
        self.next_ticket = start.ticket
        self.next_message = start.message
        # Recent customers per language, so some customers write more than once.
        self.recent: dict[str, list[_Customer]] = {code: [] for code in corpus.LANGS}
        # Tag lists repeat (scenario tags + vip + an extra): their JSON is built once each.
        self.tags_json: dict[tuple[str, ...], str] = {}
        # The current batch's tickets per (status, assignee, queue) (Batch.view_counts).
        self.view_counts: dict[tuple[str, str, str], int] = {}

    # -- small random helpers --------------------------------------------------------------

    def alnum6(self) -> str:
        """6 letters and digits: 5 random bits a character, the lowest first."""
        b = self.bits(30)
        return _ALNUM_PAIRS[b & 1023] + _ALNUM_PAIRS[b >> 10 & 1023] + _ALNUM_PAIRS[b >> 20]

    # -- rows --------------------------------------------------------------------------------

    def batch(self, first_index: int, size: int) -> Batch:
        out = Batch()
        ticket = self.ticket
        self.view_counts = {}
        for i in range(first_index, first_index + size):
            ticket(i, out)
        out.view_counts = [(*key, n) for key, n in sorted(self.view_counts.items())]
        return out

    def customer(self, lang: _Lang, out: Batch) -> _Customer:
        r = self.r
        recent = self.recent[lang.code]
        if recent and r() < 0.3:
            return recent[floor(r() * len(recent))]
        family = lang.family[floor(r() * len(lang.family))]
        given = lang.given[floor(r() * len(lang.given))]
        name = family + given if lang.cjk else f"{given} {family}"
        customer_id = self.next_customer
        self.next_customer += 1
        tier = self.tiers[floor(r() * 200)]
        customer = (customer_id, name, given, tier)
        stem = lang.stems[floor(r() * len(lang.stems))]
        email = None
        if lang.code == "en" or r() < 0.5:
            email = f"{stem}{floor(r() * 1000)}@{lang.domains[floor(r() * len(lang.domains))]}"
        handles = f'{{"{lang.handle_kind}":"{stem}_{floor(r() * 100_000)}"}}'
        out.customers.append(
            (customer_id, name, lang.code, tier, email, self.phone(lang.code), handles)
        )
        if len(recent) >= 2000:
            recent[floor(r() * 2000)] = customer
        else:
            recent.append(customer)
        return customer

    def phone(self, lang: str) -> str:
        # One draw of decimal digits, cut into the national number's groups.
        if lang == "zh-CN":
            d = f"{self.bits(64) % 1_000_000_000:09d}"
            return f"+86 1{'35789'[floor(self.r() * 5)]}{d[0]} {d[1:5]} {d[5:]}"
        if lang == "zh-TW":
            d = f"{self.bits(64) % 100_000_000:08d}"
            return f"+886 9{d[:2]} {d[2:5]} {d[5:]}"
        if lang == "uk":
            d = f"{self.bits(64) % 10_000_000:07d}"
            operator = ("67", "50", "63", "93", "97")[floor(self.r() * 5)]
            return f"+380 {operator} {d[:3]} {d[3:5]} {d[5:]}"
        d = f"{self.bits(64) % 10_000_000:07d}"
        return f"+1 {200 + floor(self.r() * 700)} {d[:3]} {d[3:]}"

    def tracking(self, carrier: Carrier) -> str:
        number, modulus = carrier[3], carrier[4]
        if carrier[5]:  # UPS
            return number % (self.alnum6(), self.bits(64) % modulus)
        return number % (self.bits(64) % modulus)

    def ticket(self, index: int, out: Batch) -> None:
        r, now = self.r, self.now
        lang = self.lang_table[floor(r() * 200)]
        scenarios = lang.scenarios
        scenario = scenarios[floor(r() * len(scenarios))]
        case_type = scenario.case_types[floor(r() * len(scenario.case_types))]
        customer_id, customer_name, first_name, tier = self.customer(lang, out)

        # Ids increase with creation time; recent days are denser (the live inbox).
        position = (index + r()) / self.total
        created = now - floor(SPAN * (1.0 - position) ** 1.6) - 60
        age = now - created
        status_table = self.old_status_table
        if age < self.young_limit:
            for limit, table in self.young_status_tables:
                if age < limit:
                    status_table = table
                    break
        status = status_table[floor(r() * 200)]

        products = lang.products
        product = products[floor(r() * len(products))]
        defects = lang.defects[product.category]
        defect = defects[floor(r() * len(defects))]
        carrier = lang.carriers[floor(r() * len(lang.carriers))]
        weekday = lang.weekdays[floor(r() * len(lang.weekdays))]
        days = 5 + floor(r() * 8)
        order_id, order_number, total, tracking = self.order(
            lang, scenario, customer_id, product, carrier, created, days, out
        )
        diff = product.prices[0] * (8 + floor(r() * 12)) // 100 // 100 * 100
        diff = diff if diff > 100 else 100
        amounts = lang.amounts
        amount = amounts.get(total) or lang.amount_texts(total)
        diff_text = amounts.get(diff) or lang.amount_texts(diff)
        slots = {
            "product": product.name,
            "defect": defect[0],
            "carrier": carrier[1],
            "weekday": weekday[0],
            "order": lang.order_quote % order_number,
            "tracking": tracking or "",
            "return_tracking": self.tracking(carrier),
            "amount": amount[0],
            "diff": diff_text[0],
            "days": days,
            "first": first_name,
            "agent": "",
        }
        islots = None
        if lang.cjk:
            # Every slot value with CJK characters needs its index form (元 in amounts too).
            islots = slots.copy()
            islots["product"] = product.name_idx
            islots["defect"] = defect[1]
            islots["carrier"] = carrier[2]
            islots["weekday"] = weekday[1]
            islots["amount"] = amount[1]
            islots["diff"] = diff_text[1]

        queue = "vip" if tier == "vip" and r() < 0.6 else scenario.queue
        if status == "new" and r() < 0.75:
            agent = None  # still in the queue, nobody has picked it up
        else:
            agents = lang.agents_by_queue.get(queue) or lang.agents_by_queue["*"]
            agent = agents[floor(r() * len(agents))]
            slots["agent"] = agent.signature
            if islots is not None:
                islots["agent"] = agent.signature
        priority = scenario.priorities[floor(r() * 40)]
        if priority < 3 and tier in ("vip", "gold") and r() < 0.5:
            priority += 1

        case_state = None
        if case_type is not None:
            case_state = self.case_state_tables[status][case_type][floor(r() * 40)]
            if case_state == "resolved":
                resolutions = _RESOLUTIONS[case_type]
                case_state = resolutions[floor(r() * len(resolutions))]

        ticket_id = self.next_ticket
        self.next_ticket += 1
        subject_tpl = scenario.subjects[floor(r() * len(scenario.subjects))]
        subject = subject_tpl[0]
        if "{" in subject:  # many subjects have no slot, as many message templates
            subject = subject.format_map(slots)
        if subject_tpl[1] is not None:
            subject_idx = subject_tpl[1]
            if "{" in subject_idx:
                subject_idx = subject_idx.format_map(islots)  # type: ignore[arg-type]
        else:
            subject_idx = subject if islots is None else index_text(subject)
        bodies = self.conversation(
            lang, scenario, status, case_type, case_state, customer_name, agent, slots, islots
        )
        channel = lang.channels[floor(r() * 200)]  # every message travels on the ticket's channel
        last_id, updated, last_customer = self.write_messages(
            ticket_id, subject_idx, bodies, slots, islots, created, status, channel, out
        )

        first_due = next_due = resolution_due = None
        sla_due = SLA_NEVER
        snoozed = None
        if status == "new":
            first_due = created + FIRST_REPLY[priority]
            resolution_due = created + RESOLUTION[priority]
            sla_due = first_due if first_due <= resolution_due else resolution_due
        elif status == "open":
            next_due = last_customer + NEXT_REPLY[priority]
            resolution_due = created + RESOLUTION[priority]
            sla_due = next_due if next_due <= resolution_due else resolution_due
        elif status == "pending" or status == "on-hold":
            resolution_due = created + RESOLUTION[priority]  # kept, but the clock is paused
            if status == "pending" and r() < 0.35:
                snoozed = now + HOUR + floor(r() * 3 * DAY)

        tags = scenario.tags
        if tier == "vip":
            tags += ("vip",)
        if r() < 0.12:
            extra = lang.extra_tags[floor(r() * len(lang.extra_tags))]
            if extra not in tags:
                tags += (extra,)
        ticket_tags = out.ticket_tags
        for tag in tags:
            ticket_tags.append((tag, ticket_id))
        tags_json = self.tags_json.get(tags)
        if tags_json is None:
            # Tags never contain quotes or backslashes, so this is valid JSON.
            tags_json = self.tags_json[tags] = '["' + '","'.join(tags) + '"]'

        assignee = agent.login if agent else ""
        view = (status, assignee, queue)
        self.view_counts[view] = self.view_counts.get(view, 0) + 1
        out.tickets.append((
            ticket_id, subject, status, priority, channel, queue,
            assignee, customer_id, lang.code, tags_json, order_id,
            case_type, case_state, created, updated, first_due, next_due, resolution_due,
            sla_due, snoozed, last_id,
        ))  # fmt: skip

    def order(
        self,
        lang: _Lang,
        scenario: _Scenario,
        customer_id: int,
        product: _Product,
        carrier: Carrier,
        created: int,
        days: int,
        out: Batch,
    ) -> tuple[int | None, str, int, str | None]:
        """Write the order the ticket is about; (order id, number, total, tracking)."""
        r = self.r
        number_format, modulus = lang.order_number
        number = number_format % (self.bits(64) % modulus)
        variant = floor(r() * 3)
        price = product.prices[variant]
        quantity = 1 if r() < 0.9 else 2
        if scenario.key == "presale":
            if r() < 0.25:  # (keeps the random stream in step with a real order's extras)
                r()
            return None, number, price, None  # asking before buying: no order yet
        total = price * quantity
        items = product.items[variant][quantity - 1]
        if r() < 0.25:  # up to two more items in the basket
            products = lang.products
            extra = products[floor(r() * len(products))]
            v = floor(r() * 3)
            total += extra.prices[v]
            items += "," + extra.items[v][0]
            if r() < 0.25:
                extra = products[floor(r() * len(products))]
                v = floor(r() * 3)
                total += extra.prices[v]
                items += "," + extra.items[v][0]
        placed = created - days * DAY - floor(r() * DAY)
        shipped = delivered = tracking = carrier_name = None
        if scenario.key != "cancel":
            carrier_name = carrier[0]
            tracking = self.tracking(carrier)
            shipped = placed + 4 * HOUR + floor(r() * 1.5 * DAY)
            if scenario.delivered:
                delivered = shipped + DAY + floor(r() * 3 * DAY)
                if delivered > created - HOUR:
                    delivered = created - HOUR
        order_id = self.next_order
        self.next_order += 1
        out.orders.append((
            order_id, number, customer_id, f"[{items}]", _decimal(total), lang.currency, placed,
            carrier_name, tracking, shipped, delivered,
        ))  # fmt: skip
        return order_id, number, total, tracking

    def conversation(
        self,
        lang: _Lang,
        scenario: _Scenario,
        status: str,
        case_type: str | None,
        case_state: str | None,
        name: str,
        agent: _Agent | None,
        slots: dict[str, Any],
        islots: dict[str, Any] | None,
    ) -> list[tuple[str, str, str, Tpl]]:
        """The ticket's messages as (kind, author_kind, author, template), in order; `name`:
        the customer's.

        Templates are filled by write_messages; events are ready text (index form = text).
        """
        r = self.r
        login = agent.login if agent else "system"
        opener = scenario.openers
        msgs: list[tuple[str, str, str, Tpl]] = [
            ("public", "customer", name, opener[floor(r() * len(opener))])
        ]
        if status == "new":
            if r() < 0.3:
                nudges = lang.nudges
                msgs.append(("public", "customer", name, nudges[floor(r() * len(nudges))]))
            return msgs
        if agent is not None and r() < 0.1:
            text = f"Assigned to {login} in {scenario.queue}"
            msgs.append(("event", "system", "system", (text, text)))
        closing = status == "solved" or status == "closed"
        quick = closing and r() < 0.5  # one reply settled it
        if not quick:
            first = scenario.agent_first
            msgs.append(("public", "agent", login, first[floor(r() * len(first))]))
        followups = scenario.followups
        if status == "open":
            if r() < 0.25:
                notes = _NOTES_BY_LANG[agent.note_lang if agent else lang.code]
                msgs.append(("note", "agent", login, notes[floor(r() * len(notes))]))
            msgs.append(("public", "customer", name, followups[floor(r() * len(followups))]))
        elif status == "pending":
            if r() < 0.4:
                msgs.append(("public", "customer", name, followups[floor(r() * len(followups))]))
                waiting = lang.waiting
                msgs.append(("public", "agent", login, waiting[floor(r() * len(waiting))]))
            msgs.append(("event", "system", "system", _PENDING_EVENT))
        elif status == "on-hold":
            notes = _NOTES_BY_LANG[agent.note_lang if agent else lang.code]
            msgs.append(("note", "agent", login, notes[floor(r() * len(notes))]))
            msgs.append(("event", "system", "system", _ON_HOLD_EVENT))
        else:
            if not quick and r() < 0.5:
                msgs.append(("public", "customer", name, followups[floor(r() * len(followups))]))
            replies = lang.resolution[_resolution_key(scenario.key, case_type, case_state)]
            msgs.append(("public", "agent", login, replies[floor(r() * len(replies))]))
            if r() < 0.25:
                thanks = lang.thanks
                msgs.append(("public", "customer", name, thanks[floor(r() * len(thanks))]))
            if status == "closed" and r() < 0.25:
                msgs.append(("event", "system", "system", _AUTO_CLOSED_EVENT))
            elif status == "solved" and r() < 0.5:
                text = f"Status changed from open to solved by {login}"
                msgs.append(("event", "system", "system", (text, text)))
        return msgs[:6]

    def write_messages(
        self,
        ticket_id: int,
        subject_idx: str,
        bodies: list[tuple[str, str, str, Tpl]],
        slots: dict[str, Any],
        islots: dict[str, Any] | None,
        created: int,
        status: str,
        channel: str,
        out: Batch,
    ) -> tuple[int, int, int]:
        """Fill the templates, append messages + search rows; return (last id, updated_at,
        last customer time)."""
        r = self.r
        count = len(bodies)
        span = self.now - created - 30
        if span > _ACTIVITY_SPAN[status]:
            span = _ACTIVITY_SPAN[status]
        messages, search = out.messages, out.search
        at = created
        last_customer = created
        message_id = self.next_message
        index_slots = slots if islots is None else islots
        for n, (kind, author_kind, author, (raw, idx)) in enumerate(bodies):
            # Many templates have no slot (no brace at all): nothing to fill.
            body = raw.format_map(slots) if "{" in raw else raw
            if idx is not None:
                if "{" in idx:
                    idx = idx.format_map(index_slots)
            else:  # a template without CJK: only a CJK slot value (a note) needs the regex
                idx = body if islots is None else index_text(body)
            if n:
                at = created + floor(span * (n + r()) / count)
                search.append((message_id, idx))
            else:
                search.append((message_id, subject_idx + "\n" + idx))
            messages.append((message_id, ticket_id, kind, author_kind, author, channel, body, at))
            if author_kind == "customer":
                last_customer = at
            message_id += 1
        self.next_message = message_id
        return message_id - 1, at, last_customer


_RETURNS_GOODS = frozenset(str(t) for t in RETURNS_GOODS)
_RESOLUTIONS: dict[str, list[str]] = {
    str(t): sorted(str(s) for s in states) for t, states in RESOLUTION_FOR_TYPE.items()
}
_RESOLUTIONS[str(CaseType.COMPLAINT)] = ["refunded", "reshipped", "refunded"]
_ALNUM = "0123456789ABCDEFGHJKLMNPRSTVWXYZ"  # 32: 5 random bits a character
# Every two characters, indexed by 10 random bits (the lower 5 pick the first).
_ALNUM_PAIRS = [first + second for second in _ALNUM for first in _ALNUM]
# System events as (text, index form): English only, so the same string.
_PENDING_EVENT = ("Status changed from open to pending",) * 2
_ON_HOLD_EVENT = ("Status changed from open to on-hold",) * 2
_AUTO_CLOSED_EVENT = ("Ticket closed automatically 4 days after it was solved",) * 2


@functools.cache  # a few dozen combinations, asked for by most tickets
def _resolution_key(scenario: str, case_type: str | None, case_state: str | None) -> str:
    """Which closing reply fits: what was done, or 'rejected', or an answer with no case."""
    if case_type is None:
        return "info" if scenario == "presale" else "answered"
    if case_state == "rejected":
        return "rejected" if case_type in _RETURNS_GOODS else "declined"
    if case_state == "refunded" or (case_state == "closed" and case_type != "complaint"):
        # What the case did before it closed: money back, for price protection the difference.
        if case_type == "price-protection":
            return "price_refunded"
        if case_state == "refunded" or _RESOLUTIONS[case_type][0] == "refunded":
            return "refunded" if case_type in _RETURNS_GOODS else "refunded_only"
    if case_state in ("exchanged", "reshipped", "repaired"):
        return case_state
    resolution = _RESOLUTIONS[case_type][0]
    return "refunded_only" if resolution == "refunded" else resolution
