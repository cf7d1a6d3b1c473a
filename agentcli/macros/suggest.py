"""Suggest macros for a ticket: case type and state, language, words of the last message.

Scores are additive and each part comes with a reason the agent can read, so a suggestion
is never a black box:
  * the macro sets a case of the ticket's case type, or its category/tags name it (+3)
  * its case step is allowed from the ticket's current case state (+2), impossible (-5)
  * glossary terms found in the customer's last message that the macro mentions (+2 each)
  * other words the message shares with the macro's title, tags and category (+1 each)
  * no body in the customer's language (zh-TW counts as covered by zh-CN) (-2)
  * agents used it on similar tickets (`usage`, read by agentcli.store.macro_usage): +1 per
    doubling of the count, at most +3, so habit breaks ties without outvoting the ticket
    (and nothing for a macro whose case step is impossible: it could not be applied)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agentcli.macros.actions import case_steps
from agentcli.macros.glossary import Glossary
from agentcli.macros.model import Macro

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
USAGE_CAP = 3


@dataclass(frozen=True, slots=True)
class Suggestion:
    macro: Macro
    score: int
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.macro.id, "score": self.score, "reasons": list(self.reasons)}


def _keys(text: str) -> set[str]:
    """Latin/Cyrillic words and Chinese bigrams, lowercase."""
    lowered = text.lower()
    keys = set(_WORD.findall(lowered))
    for run in _CJK_RUN.findall(lowered):
        keys.update(run[i : i + 2] for i in range(len(run) - 1))
    return keys


def suggest(
    macros: Iterable[Macro],
    context: Mapping[str, Any],
    last_message: str,
    glossary: Glossary,
    locale: str,
    limit: int = 5,
    usage: Mapping[str, int] | None = None,
) -> list[Suggestion]:
    """The best `limit` macros for the ticket in `context`; `usage` maps macro ids to the
    number of similar tickets they were used on."""
    ticket = context.get("ticket") or {}
    case = context.get("case") or {}
    channel = ticket.get("channel")
    message_terms = {hit.term_id for hit in glossary.detect(last_message)}
    message_keys = _keys(last_message)
    out: list[Suggestion] = []
    for macro in macros:
        if macro.snippet or not macro.allows_channel(channel):
            continue
        score = 0
        reasons: list[str] = []
        labels = f"{macro.id} {macro.category} {' '.join(macro.tags)}".lower()
        set_case = [a for a in macro.actions if a.type == "set-case"]
        case_type = case.get("type")
        if case_type and (any(a.case_type == case_type for a in set_case) or case_type in labels):
            score += 3
            reasons.append(f"case type {case_type}")
        errors: list[str] = []
        if set_case:
            _, _, errors = case_steps(set_case, case.get("type"), case.get("state"))
            if errors:
                score -= 5
                reasons.append("case step not possible now")
            elif case.get("type"):
                score += 2
                reasons.append(f"next step from {case.get('state')}")
        text = " ".join([*macro.title.values(), labels, *macro.body.values()])
        for term_id in sorted(message_terms):
            forms = glossary.forms(glossary.terms[term_id]).values()
            lowered = text.lower()  # bodies name terms by id too: {{ "refund-only" | term }}
            if term_id in lowered or any(form.lower() in lowered for form in forms):
                score += 2
                reasons.append(f"term {term_id}")
        shared = message_keys & _keys(" ".join([*macro.title.values(), labels]))
        if shared:
            score += len(shared)
            reasons.append("words: " + ", ".join(sorted(shared)[:5]))
        covered = locale in macro.body or (locale == "zh-TW" and "zh-CN" in macro.body)
        if not covered:
            score -= 2
            reasons.append(f"no {locale} text")
        used = (usage or {}).get(macro.id, 0)
        if used > 0 and not errors:  # habit never brings back a step that cannot apply now
            points = usage_points(used)
            score += points
            plural = "s" if used != 1 else ""
            reasons.append(f"used on {used} similar ticket{plural} (+{points})")
        if score > 0:
            out.append(Suggestion(macro, score, tuple(reasons)))
    out.sort(key=lambda s: -s.score)
    return out[:limit]


def usage_points(count: int) -> int:
    """1 use: +1, 2-3: +2, 4 or more: +3."""
    return min(USAGE_CAP, count.bit_length()) if count > 0 else 0
