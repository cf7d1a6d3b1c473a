"""The terminology glossary: find terms in text fast, look them up, flag phrases to avoid.

Detection compiles every form of every term (all locales, zh-TW made by OpenCC when
missing) into one regex shaped as a trie, so a 2,000-character message is scanned once in C
and the longest term wins at each position (退货退款 before 退款). A plain alternation of
~500 forms was ~30x slower: Python's `re` tries each alternative at each position. Latin and
Cyrillic forms match whole words only, case-insensitively (text is lowercased); CJK forms
match anywhere (Chinese has no spaces).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agentcli.macros.chinese import to_traditional
from agentcli.macros.model import LOCALES, Term


@dataclass(frozen=True, slots=True)
class TermHit:
    term_id: str
    locale: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class AvoidHit:
    term_id: str
    locale: str
    start: int
    end: int
    text: str
    preferred: str | None  # what to say instead, in the same locale, if the glossary says


def _is_cjk(char: str) -> bool:
    return "\u2e80" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def _pattern(form: str) -> str:
    escaped = re.escape(form)
    # Word edges only where the form starts/ends with a letter of a spaced script.
    head = r"(?<!\w)" if form[:1].isalnum() and not _is_cjk(form[0]) else ""
    tail = r"(?!\w)" if form[-1:].isalnum() and not _is_cjk(form[-1]) else ""
    return head + escaped + tail


def _compile(forms: Mapping[str, tuple[str, str]]) -> re.Pattern[str] | None:
    """One alternation, longest first; each form's (term, locale) is found by its text."""
    if not forms:
        return None
    ordered = sorted(forms, key=len, reverse=True)
    return re.compile("|".join(_pattern(form) for form in ordered), re.IGNORECASE)


def _trie_pattern(forms: Iterable[str]) -> re.Pattern[str] | None:
    """One regex shaped as a trie of the forms (退(?:货(?:退款)?|款)...): the regex engine
    rejects a position on its first character instead of trying ~500 alternatives, and
    greedy optional tails give the longest form. Word edges are checked afterwards."""
    trie: dict[str, dict] = {}
    for form in forms:
        node = trie
        for char in form:
            node = node.setdefault(char, {})
        node[""] = {}
    if not trie:
        return None

    def emit(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return re.compile(emit(trie))


class Glossary:
    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms: dict[str, Term] = {term.id: term for term in terms}
        forms: dict[str, tuple[str, str]] = {}
        avoid: dict[str, tuple[str, str]] = {}
        for term in self.terms.values():
            for locale, form in self.forms(term).items():
                forms.setdefault(form.lower(), (term.id, locale))
            for locale, phrases in term.avoid.items():
                for phrase in phrases:
                    avoid.setdefault(phrase.casefold(), (term.id, locale))
                if locale == "zh-CN" and "zh-TW" not in term.avoid:
                    for phrase in phrases:
                        avoid.setdefault(to_traditional(phrase).casefold(), (term.id, "zh-TW"))
        self._forms = forms
        self._avoid = avoid
        self._by_first: dict[str, list[str]] = {}
        for form in sorted(forms, key=len, reverse=True):
            self._by_first.setdefault(form[0], []).append(form)
        self._trie = _trie_pattern(forms)
        self._avoid_re = _compile(avoid)

    @staticmethod
    def forms(term: Term) -> dict[str, str]:
        """The term in every locale; zh-TW from zh-CN via OpenCC when not written."""
        out = dict(term.forms)
        if "zh-TW" not in out and "zh-CN" in out:
            out["zh-TW"] = to_traditional(out["zh-CN"])
        return {locale: out[locale] for locale in LOCALES if out.get(locale)}

    def detect(self, text: str) -> list[TermHit]:
        """Every glossary term in `text`, left to right, longest match at each position."""
        lowered = text.lower()
        if len(lowered) != len(text):  # rare letters whose lowercase changes length
            lowered = text
        if self._trie is None:
            return []
        hits: list[TermHit] = []
        for match in self._trie.finditer(lowered):
            start = match.start()
            form = match.group()
            if not self._edges_ok(lowered, start, match.end(), form):
                # The longest form sits inside a word; a shorter one may still fit.
                form = next(
                    (
                        f
                        for f in self._by_first[lowered[start]]
                        if len(f) < len(form)
                        and lowered.startswith(f, start)
                        and self._edges_ok(lowered, start, start + len(f), f)
                    ),
                    "",
                )
                if not form:
                    continue
            term_id, locale = self._forms[form]
            hits.append(
                TermHit(term_id, locale, start, start + len(form), text[start:][: len(form)])
            )
        return hits

    @staticmethod
    def _edges_ok(text: str, start: int, stop: int, form: str) -> bool:
        """Whole words for spaced scripts: `refund only` is not inside `refund onlyx`."""
        if not _is_cjk(form[0]) and form[0].isalnum() and start > 0 and text[start - 1].isalnum():
            return False
        return not (
            not _is_cjk(form[-1])
            and form[-1].isalnum()
            and stop < len(text)
            and text[stop].isalnum()
        )

    def check(self, text: str) -> list[AvoidHit]:
        """Phrases to avoid in `text`, each with the preferred phrasing for its locale."""
        if self._avoid_re is None:
            return []
        hits = []
        for match in self._avoid_re.finditer(text):
            term_id, locale = self._avoid[match.group().casefold()]
            term = self.terms[term_id]
            preferred = term.preferred.get(locale)
            if preferred is None and locale == "zh-TW" and "zh-CN" in term.preferred:
                preferred = to_traditional(term.preferred["zh-CN"])
            hits.append(
                AvoidHit(term_id, locale, match.start(), match.end(), match.group(), preferred)
            )
        return hits

    def lookup(self, word: str) -> list[Term]:
        """Terms whose id or any form equals `word` (any language, any case), then terms
        whose id, form or definition contains it."""
        needle = word.strip().casefold()
        if not needle:
            return []
        exact: list[Term] = []
        partial: list[Term] = []
        for term in self.terms.values():
            forms = [f.casefold() for f in self.forms(term).values()] + [term.id.casefold()]
            if needle in forms:
                exact.append(term)
            elif any(needle in f for f in forms) or needle in term.definition.casefold():
                partial.append(term)
        return exact + partial
