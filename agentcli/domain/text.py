"""Text rules for multilingual full-text search, shared by the store (and later the server).

FTS5's unicode61 tokenizer keeps a run of Chinese characters as one token, so 退款 inside
申请退款 would never match. We index every CJK character as its own token (by putting
spaces around it) and query CJK words as phrases of single characters: adjacent tokens in
order, which finds every occurrence of 1-4+ character words. Other scripts stay whole words
and are queried by prefix, so Ukrainian and English word forms match as typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rich.cells import cell_len, get_character_cell_size

# CJK Unified Ideographs (+ Ext A), compatibility ideographs, kana, Hangul syllables.
_CJK_RANGES = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
CJK_CHAR = re.compile(rf"([{_CJK_RANGES}])")


def index_text(text: str) -> str:
    """The form of `text` written to the FTS index: each CJK character a separate token.

    Same output as `CJK_CHAR.sub(r" \\1 ", text)`: split() on the capturing pattern gives
    text, char, text, char, ..., so joining with spaces puts one on each side of every CJK
    character. It is ~5x faster on CPython 3.11, where sub() expands the template in Python
    once per match (a first sync indexes ~300k messages).
    """
    return " ".join(CJK_CHAR.split(text))


def indexed_source(body: str, subject: str | None = None) -> str:
    """The raw text indexed for a message: the opening message also carries its ticket's subject.

    `index_text(indexed_source(...))` is what goes into `search_index`; deleting a row from the
    contentless index needs exactly the same text again, so every writer should use this.
    """
    return body if subject is None else f"{subject}\n{body}"


# --- Tokens, as the unicode61 tokenizer sees them ------------------------------------------------


# What unicode61 (categories 'L* N* Co', remove_diacritics 0) keeps inside a token: letters,
# digits ([^\W_]) and private-use characters, plus combining marks after them (with
# remove_diacritics 0 SQLite keeps them in the word, so a decomposed й stays one token). CJK
# characters are tokens of their own, as index_text makes them. Characters newer than SQLite's
# Unicode tables (emoji from U+1F900) are word characters to SQLite but separators here: that
# only affects highlighting and dropping emoji-only terms, never the FTS query text, which
# SQLite tokenizes itself.
_MARKS = r"\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD_START = rf"[^\W_{_CJK_RANGES}]|[\ue000-\uf8ff]"
_TOKEN = re.compile(rf"([{_CJK_RANGES}])|(?:{_WORD_START})(?:{_WORD_START}|[{_MARKS}])*")


@dataclass(frozen=True, slots=True)
class Token:
    start: int  # offsets into the text it came from
    end: int
    text: str  # lower-cased, as compared
    cjk: bool


def tokenize(text: str) -> list[Token]:
    """Split `text` the way `index_text` + unicode61 do: CJK characters alone, else word runs."""
    return [
        Token(m.start(), m.end(), m.group().lower(), m.group(1) is not None)
        for m in _TOKEN.finditer(text)
    ]


# --- Query translation ---------------------------------------------------------------------------

# Ukrainian writes the apostrophe three ways. ' and ’ split a word into two tokens, while ʼ
# (U+02BC, the officially recommended one) is a letter and keeps it whole; we search both forms.
_APOSTROPHES = "'’ʼ"
_SPLIT_APOSTROPHE = "'"
_LETTER_APOSTROPHE = "ʼ"
_QUOTED = re.compile(r'"([^"]*)"')
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class QueryTerm:
    """One ANDed term: any of `variants` (raw text, tokenized by FTS5 as a phrase) must occur.

    `prefix`: the last token may be the start of a longer word (word forms as typed).
    """

    variants: tuple[str, ...]
    prefix: bool


def parse_query(text: str) -> list[QueryTerm]:
    """A user's search text as ANDed terms; punctuation-only input gives no terms.

    `"..."` is an exact phrase. Elsewhere terms are split on whitespace, and on punctuation
    next to CJK (退款，物流 is two terms); punctuation between letters stays inside a term
    (e-mail, п'ять, col:x become phrases). Traditional and Simplified Chinese are different
    characters and are not converted: 換貨 finds only 換貨, 换货 only 换货.
    """
    terms: list[QueryTerm] = []
    position = 0
    for quoted in _QUOTED.finditer(text):
        terms += _bare_terms(text[position : quoted.start()])
        if tokenize(quoted.group(1)):
            terms.append(QueryTerm((quoted.group(1).strip(),), prefix=False))
        position = quoted.end()
    terms += _bare_terms(text[position:])
    return terms


def _bare_terms(text: str) -> list[QueryTerm]:
    """Terms of unquoted text (an unmatched `"` in it is just punctuation)."""
    terms: list[QueryTerm] = []
    for chunk in text.split():
        for group in _group_tokens(tokenize(chunk)):
            raw = chunk[group[0].start : group[-1].end]
            # A lone ʼ is a word to unicode61 but its ' variant is empty: keep only real ones.
            variants = tuple(v for v in _apostrophe_variants(raw) if tokenize(v))
            terms.append(QueryTerm(variants, prefix=not group[-1].cjk))
    return terms


def _group_tokens(tokens: list[Token]) -> list[list[Token]]:
    """Adjacent tokens form one term; punctuation splits the term unless it sits between words."""
    groups: list[list[Token]] = []
    for token in tokens:
        if groups:
            last = groups[-1][-1]
            touching = last.end == token.start
            if touching or not (last.cjk or token.cjk):
                groups[-1].append(token)
                continue
        groups.append([token])
    return groups


def _apostrophe_variants(raw: str) -> tuple[str, ...]:
    if not any(a in raw for a in _APOSTROPHES):
        return (raw,)
    split = raw.translate(str.maketrans(_APOSTROPHES, _SPLIT_APOSTROPHE * len(_APOSTROPHES)))
    joined = raw.translate(str.maketrans(_APOSTROPHES, _LETTER_APOSTROPHE * len(_APOSTROPHES)))
    return (split, joined)


def _fts_string(raw: str) -> str:
    """`raw` as an FTS5 string: always double-quoted (so operators are literal), `"` doubled.

    NUL would end the string early inside SQLite's parser ("unterminated string"), and lone
    surrogates cannot be encoded for SQLite at all: both become spaces (separators anyway).
    """
    text = _UNSAFE.sub(" ", index_text(raw))
    return '"' + " ".join(text.split()).replace('"', '""') + '"'


# The indexed words starting with a prefix (lower-cased, as indexed), or None to keep the prefix.
Expand = Callable[[str], "list[str] | None"]


def to_fts_match(terms: list[QueryTerm], expand: Expand | None = None) -> str | None:
    """The FTS5 MATCH expression for `terms`; None when there is nothing to match.

    `expand` turns a prefix term into its exact words OR'ed: FTS5 merges the complete doclist
    of every word with a prefix before it returns a first row (a first page of `refund` took
    10-55 ms at 3.4M messages), while an OR of exact words walks them newest-first and stops at
    the page (about 1 ms). The store supplies it from its word list (agentcli.store.search).
    """
    parts: list[str] = []
    for term in terms:
        phrases = [p for v in term.variants for p in _variant_phrases(v, term.prefix, expand)]
        parts.append(phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")")
    return " AND ".join(parts) or None


def _variant_phrases(raw: str, prefix: bool, expand: Expand | None) -> list[str]:
    """`raw` as FTS5 phrases: itself, or with its last word a prefix, or that word expanded.

    Only a variant we tokenize exactly as SQLite does is expanded (its last token is then the
    indexed form of the prefix); a term of several words keeps the others: `e-mai` becomes
    "e mail" OR "e mails". No words (nothing indexed starts so) keeps the
    prefix query, which is as cheap then and matches the same nothing.
    """
    if not prefix:
        return [_fts_string(raw)]
    if expand is not None and not _DISAGREED.search(raw):
        tokens = tokenize(raw)
        if not tokens[-1].cjk and (words := expand(tokens[-1].text)):
            head = [token.text for token in tokens[:-1]]
            return [_fts_string(" ".join([*head, word])) for word in words]
    return [_fts_string(raw) + " *"]


def fts_query(text: str) -> str | None:
    """A user's search text as a safe FTS5 MATCH expression (None: match nothing)."""
    return to_fts_match(parse_query(text))


# --- Words, for expanding prefix terms -----------------------------------------------------------

# Characters our tokenizer splits and lower-cases exactly as SQLite 3.40's unicode61 does, alone
# and inside words (tests/test_search_words.py checks each against SQLite). Elsewhere the two can
# disagree: letters and emoji newer than SQLite's Unicode tables (word characters to SQLite),
# combining marks, Greek final sigma, İ, ſ, µ. A text with any other character is tokenized by
# SQLite itself (agentcli.store.search), and a query term with one is not expanded.
_AGREED = (
    r"\x00-\xb4\xb6-\u012f\u0131-\u017e\u0180-\u02ff"  # Latin, IPA, modifier letters (ʼ)
    r"\u0400-\u0482\u048a-\u0527"  # Cyrillic, without its combining marks and newest letters
    r"\u1e00-\u1e9a\u1e9c-\u1eff"  # Latin Extended Additional (Vietnamese)
    r"\u2000-\u2064\u20a0-\u20b9\u2100-\u2189\u2190-\u23f3\u2460-\u26ff\u2701-\u2b4c"  # symbols
    r"\u3000-\u303f\ufe00-\ufe0f\uff01-\uffbe"  # CJK and full-width punctuation
    # the most used emoji blocks, as far as SQLite knows them
    r"\U0001f300-\U0001f320\U0001f400-\U0001f43e\U0001f442-\U0001f4f7\U0001f500-\U0001f53d"
    r"\U0001f5fb-\U0001f640\U0001f645-\U0001f64f\U0001f680-\U0001f6c5"
)
_DISAGREED = re.compile(f"[^{_AGREED}{_CJK_RANGES}]")
# A word on agreed text: a run of letters and digits; CJK characters are tokens of their own.
_WORD_RUN = re.compile(rf"[^\W_{_CJK_RANGES}]+")


def index_words(texts: Sequence[str]) -> tuple[set[str], list[str]]:
    """The distinct non-CJK tokens of `texts` (raw or as indexed), as the index holds them; and
    the texts with characters where our tokenizer may differ from SQLite's, left for SQLite.

    CJK characters are left out: each is a token of its own and queried whole, never by prefix.
    Whitespace separates tokens in both tokenizers, so the regex runs once over the distinct
    whitespace-separated chunks only: a seeding batch of 34,000 raw messages repeats most of
    its chunks, and this costs about 2 µs a message (pass raw text: index_text's spaces around
    every CJK character would make each one a chunk).
    """
    chunks = " ".join(set(" ".join(texts).split()))
    if not _DISAGREED.search(chunks):
        return {word.lower() for word in set(_WORD_RUN.findall(chunks))}, []
    left = [text for text in texts if _DISAGREED.search(text)]
    agreed = " ".join(text for text in texts if not _DISAGREED.search(text))
    return {word.lower() for word in set(_WORD_RUN.findall(agreed))}, left


# --- Snippets ------------------------------------------------------------------------------------

SNIPPET_CELLS = 72
_LEAD_CELLS = 16  # context shown before the first match
_OPEN, _CLOSE = "«", "»"
_ELLIPSIS = "…"
# Whitespace and C0/C1 controls (a message must not drive the terminal), bidi overrides and
# isolates (they display customer text reversed or spoofed), lone surrogates. Replaced by a space
# so token boundaries stay where they were.
_UNPRINTABLE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]+")


@dataclass(frozen=True, slots=True)
class Snippet:
    """One line of plain text with the character spans of matches (never markup)."""

    text: str
    spans: tuple[tuple[int, int], ...]

    @property
    def marked(self) -> str:
        """The text with matches wrapped in «…» (no `[`/`]`, so no markup language reads it)."""
        out: list[str] = []
        position = 0
        for start, end in self.spans:
            out += [self.text[position:start], _OPEN, self.text[start:end], _CLOSE]
            position = end
        out.append(self.text[position:])
        return "".join(out)


def clean_line(text: str) -> str:
    """`text` on one line: whitespace, control characters and bidi controls become one space."""
    return _UNPRINTABLE.sub(" ", text).strip()


def match_spans(text: str, terms: list[QueryTerm]) -> list[tuple[int, int]]:
    """Character spans in `text` where any term occurs as FTS5 would match it (whole words)."""
    spans = []
    for term in terms:
        for regex in _term_regexes(term):
            position = 0
            # Retry one character further after every match: matches may overlap (のの twice
            # in ののの), and one starting mid-word may hide a real one; _merge joins spans.
            while match := regex.search(text, position):
                if _starts_token(text, match.start()):
                    spans.append(match.span())
                position = match.start() + 1
    return _merge(spans)


def _starts_token(text: str, i: int) -> bool:
    """Whether a token starts at text[i], as in unicode61: not after a word (and its marks)."""
    if CJK_CHAR.match(text[i]):
        return True
    j = i
    while j > 0 and _MARK.match(text[j - 1]):
        j -= 1
    return j == 0 or not _WORD_START_CHAR.match(text[j - 1])


_WORD_CHAR = rf"(?:{_WORD_START}|[{_MARKS}])"
_WORD_START_CHAR = re.compile(_WORD_START)
_MARK = re.compile(rf"[{_MARKS}]")
# Between the tokens of a phrase: anything unicode61 drops (CJK characters are \w, so excluded).
_BETWEEN = r"(?:(?![\ue000-\uf8ff])[\W_])*"


@lru_cache(maxsize=256)
def _term_regexes(term: QueryTerm) -> list[re.Pattern[str]]:
    """A regex per variant of the term: its tokens, with what unicode61 drops between them.

    Snippets run it over the 50 hits of a page: a C regex per term instead of tokenizing every
    message in Python keeps a page of snippets in a few milliseconds. Whether a match starts
    mid-word is left to _starts_token (marks continuing a word rule out a fixed lookbehind).
    """
    variants = []
    for variant in term.variants:
        tokens = tokenize(variant)
        parts = []
        for i, token in enumerate(tokens):
            if token.cjk:
                parts.append(re.escape(token.text))
                continue
            whole_word = not (term.prefix and i == len(tokens) - 1)
            end = rf"(?!{_WORD_CHAR})" if whole_word else rf"{_WORD_CHAR}*"
            parts.append(re.escape(token.text) + end)
        variants.append(re.compile(_BETWEEN.join(parts), re.IGNORECASE))
    return variants


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def make_snippet(text: str, terms: list[QueryTerm], cells: int = SNIPPET_CELLS) -> Snippet:
    """A window of about `cells` display cells of `text` around its first match."""
    line = clean_line(text)
    spans = match_spans(line, terms)
    start = _window_start(line, spans[0][0]) if spans else 0
    end = _window_end(line, start, cells)
    lead = _ELLIPSIS if start > 0 else ""
    tail = _ELLIPSIS if end < len(line) else ""
    shift = len(lead) - start
    inside = [
        (max(s, start) + shift, min(e, end) + shift) for s, e in spans if s < end and e > start
    ]
    return Snippet(lead + line[start:end] + tail, tuple(inside))


def _window_start(line: str, match_start: int) -> int:
    """Back up from the match by about _LEAD_CELLS, preferring to start at a word boundary."""
    start = max(0, match_start - _LEAD_CELLS)
    while cell_len(line[start:match_start]) > _LEAD_CELLS:
        start += 1
    if start > 0:
        space = line.find(" ", start, match_start)
        if space != -1:
            start = space + 1
    return start


def _window_end(line: str, start: int, cells: int) -> int:
    end, width = start, 0
    while end < len(line):
        width += get_character_cell_size(line[end])
        if width > cells:
            break
        end += 1
    # Summing characters misjudges some emoji sequences (❤️ is 2 cells, not 1); trim to fit.
    while cell_len(line[start:end]) > cells:
        end -= 1
    return end


# --- Relevance -----------------------------------------------------------------------------------

BM25_K1 = 1.2
BM25_B = 0.75


def term_frequencies(text: str, terms: list[QueryTerm]) -> list[int]:
    """About how often each term occurs in `text`, for ranking only: plain substring counts.

    Ranking 2,000 candidates must stay cheap; a term written with other punctuation between its
    words is undercounted, which only nudges a score.
    """
    lower = text.lower()
    return [sum(lower.count(v.lower()) for v in term.variants) for term in terms]


def bm25_without_idf(frequencies: list[int], length: int, average_length: float) -> float:
    """bm25's saturated, length-normalised term frequency, summed over the terms (higher: better).

    Lengths are in characters, not tokens: counting tokens cost more than the rest of ranking.

    No IDF: every candidate contains every term (AND), and a term's document frequency would
    cost a walk of its whole doclist, which is what makes FTS5's bm25() take 0.1-2 s on a
    common term at 3M messages. IDF would only reweigh terms against each other.
    """
    norm = BM25_K1 * (1 - BM25_B + BM25_B * length / max(average_length, 1.0))
    return sum(tf * (BM25_K1 + 1) / (tf + norm) for tf in frequencies if tf)
