"""Fuzzy search for the macro picker: titles in every locale, shortcuts, ids, tags, bodies.

Per keystroke over 10,000 macros the budget is 10 ms. A Python loop over 10,000 entries
costs 100+ ms on a busy 2-core machine, so every field is joined once into one big
lowercase string per kind (`MacroIndex`) and a query is a few scans of those strings in C
(`str.find`, `re.finditer`); positions map back to macros by bisection. Ranking, best first:

    shortcut exact > shortcut prefix > title prefix > title contains all words >
    id/category/tags contain all words > body contains all words > title fuzzy (letters
    in order, e.g. "rfa" -> "Refund approved")

Each tier stops as soon as `limit` macros are found, so a one-letter query that matches
everything is as cheap as a rare word. Within a tier, library order is kept. Chinese typed
in Traditional also matches Simplified titles: the short query is converted, not the
haystacks.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator

from agentcli.macros.chinese import has_cjk, to_simplified
from agentcli.macros.model import Macro

_ENTRY = "\x00"  # between macros in a haystack
_FIELD = "\x01"  # before each title, so "title starts with" is a search for \x01 + query


class _Haystack:
    """One lowercase string for all macros, and where each macro's part starts."""

    def __init__(self, parts: list[str]) -> None:
        self.starts: list[int] = []
        chunks: list[str] = []
        position = 0
        for part in parts:
            self.starts.append(position)
            chunks.append(part)
            position += len(part) + 1
        self.text = _ENTRY.join(chunks)
        self.parts = parts

    def owner(self, position: int) -> int:
        return bisect_right(self.starts, position) - 1

    def entries_with(self, needle: str) -> Iterator[int]:
        """Indexes of macros whose part contains `needle`, in order, each once."""
        last = -1
        find = self.text.find
        position = find(needle)
        while position != -1:
            owner = self.owner(position)
            if owner != last:
                yield owner
                last = owner
            # Skip to the next macro: one hit per macro is enough.
            next_start = self.starts[owner + 1] if owner + 1 < len(self.starts) else len(self.text)
            position = find(needle, next_start)

    def entries_matching(self, pattern: re.Pattern[str]) -> Iterator[int]:
        last = -1
        for match in pattern.finditer(self.text):
            owner = self.owner(match.start())
            if owner != last:
                yield owner
                last = owner


class MacroIndex:
    """Prepared haystacks for a set of macros (rebuild when the library reloads)."""

    def __init__(self, macros: Iterable[Macro]) -> None:
        self.macros = [m for m in macros if not m.snippet]
        self.shortcuts = sorted(
            ((m.shortcut.lower(), i) for i, m in enumerate(self.macros) if m.shortcut),
        )
        self.titles = _Haystack(
            ["".join(_FIELD + t.lower() for t in m.title.values()) for m in self.macros]
        )
        self.meta = _Haystack(["\n".join([m.id, m.category, *m.tags]).lower() for m in self.macros])
        self.bodies = _BodyIndex(["\n".join(m.body.values()).lower() for m in self.macros])

    def search(self, query: str, limit: int = 20) -> list[Macro]:
        q = " ".join(query.lower().split())
        if not q:
            return self.macros[:limit]
        variants = [q]
        if has_cjk(q) and (simplified := to_simplified(q)) != q:
            variants.append(simplified)
        found: dict[int, None] = {}  # ordered set
        for tier in self._tiers(variants):
            for index in tier:
                found.setdefault(index)
                if len(found) >= limit:
                    return [self.macros[i] for i in found]
        return [self.macros[i] for i in found]

    def _tiers(self, variants: list[str]) -> Iterator[Iterable[int]]:
        for q in variants:
            yield self._shortcut(q)
        for q in variants:
            yield self.titles.entries_with(_FIELD + q)
        for hay in (self.titles, self.meta):
            for q in variants:
                yield _all_words(hay, q.split())
        for q in variants:
            yield self.bodies.search(q.split())
        for q in variants:
            letters = q.replace(" ", "")[:16]
            yield self.titles.entries_matching(_in_order(letters))

    def _shortcut(self, q: str) -> list[int]:
        start = bisect_right(self.shortcuts, (q, -1))
        exact, prefix = [], []
        for shortcut, index in self.shortcuts[start:]:
            if not shortcut.startswith(q):
                break
            (exact if shortcut == q else prefix).append(index)
        return exact + prefix


def _all_words(hay: _Haystack, words: list[str]) -> Iterator[int]:
    """Macros containing every word: scan for the longest (usually rarest) word in C, then
    check the others on those macros only."""
    longest = max(words, key=len)
    others = [w for w in words if w is not longest]
    for index in hay.entries_with(longest):
        part = hay.parts[index]
        if all(word in part for word in others):
            yield index


_WORD = re.compile(r"[^\W_\u3400-\u9fff]+")
_CJK = re.compile(r"[\u3400-\u9fff]+")


class _BodyIndex:
    """Bodies are ~100x the size of titles; scanning 10,000 of them (millions of characters)
    took 25+ ms a keystroke, so they get an inverted index instead: words (matched by
    prefix, so "deliv" finds "delivery") and Chinese single characters and bigrams (matched
    by intersecting bigram postings, then confirmed on the text)."""

    def __init__(self, parts: list[str]) -> None:
        self.parts = parts
        postings: dict[str, set[int]] = {}
        for index, part in enumerate(parts):
            for token in set(_tokens(part)):
                postings.setdefault(token, set()).add(index)
        self.postings = postings
        self.vocabulary = sorted(postings)

    def search(self, words: list[str]) -> list[int]:
        found: set[int] | None = None
        for word in sorted(words, key=len, reverse=True):
            matches = self._word(word)
            found = matches if found is None else found & matches
            if not found:
                return []
        return sorted(found or ())

    def _word(self, word: str) -> set[int]:
        pieces = _tokens(word, bigrams_only=True)
        if not pieces:
            return set()
        if len(pieces) == 1 and not _CJK.fullmatch(word):
            return self._prefix(pieces[0])
        candidates: set[int] | None = None
        for piece in pieces:
            hits = self.postings.get(piece, set()) if _CJK.fullmatch(piece) else self._prefix(piece)
            candidates = hits if candidates is None else candidates & hits
            if not candidates:
                return set()
        return {i for i in candidates or () if word in self.parts[i]}

    def _prefix(self, token: str) -> set[int]:
        start = bisect_right(self.vocabulary, token) - 1
        start = start if start >= 0 and self.vocabulary[start] == token else start + 1
        out: set[int] = set()
        for entry in self.vocabulary[start:]:
            if not entry.startswith(token):
                break
            out |= self.postings[entry]
        return out


def _tokens(text: str, bigrams_only: bool = False) -> list[str]:
    """Words of spaced scripts; CJK runs as bigrams (and single characters when indexing)."""
    out = _WORD.findall(text)
    for run in _CJK.findall(text):
        if len(run) == 1 or not bigrams_only:
            out += run
        out += [run[i : i + 2] for i in range(len(run) - 1)]
    return out


def _in_order(letters: str) -> re.Pattern[str]:
    """Letters in order within one title. `[^x]*+x` is possessive: no backtracking."""
    pieces = [re.escape(letters[0])]
    for letter in letters[1:]:
        pieces.append(f"[^{re.escape(letter)}\\x00\\x01]*+{re.escape(letter)}")
    return re.compile("".join(pieces))


def search_macros(
    library: Iterable[Macro] | MacroIndex, query: str, limit: int = 20
) -> list[Macro]:
    """Best `limit` macros for `query`. Pass a MacroIndex to reuse the prepared haystacks
    across keystrokes (a list of macros is indexed on every call)."""
    index = library if isinstance(library, MacroIndex) else MacroIndex(library)
    return index.search(query, limit)
