"""Plain data of the macro library: macros, their actions, glossary terms and lint problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentcli.domain.vocabulary import LANGUAGES
from agentcli.macros.chinese import to_traditional

# Locales every macro is written in. zh-TW may be omitted: it is made from zh-CN with OpenCC.
LOCALES: tuple[str, ...] = LANGUAGES
REQUIRED_LOCALES: tuple[str, ...] = ("zh-CN", "en", "uk")
DEFAULT_LOCALE = "en"

# Longest reply body a channel accepts, in characters (after rendering placeholders we can't
# know lengths, so lint checks the template source; placeholders rarely grow text by much).
# Chat widgets and marketplace message boxes truncate silently; social DMs are the shortest.
CHANNEL_LIMITS: dict[str, int] = {"chat": 1000, "marketplace": 800, "social": 500}

# Layers of the library, lowest precedence first: a personal macro overrides a shared one,
# which overrides the shipped one with the same id.
SOURCES: tuple[str, ...] = ("shipped", "shared", "personal")


class Severity:
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Problem:
    """One lint or load finding, at a 1-based line and column of `file`."""

    file: str
    line: int
    col: int
    message: str
    severity: str = Severity.ERROR

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}: {self.severity}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "col": self.col,
            "severity": self.severity,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Action:
    """One `[[actions]]` entry; `value` is whatever the type takes (str, list of tags)."""

    type: str
    value: Any = None
    case_type: str | None = None
    state: str | None = None
    line: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if self.type == "set-case":
            if self.case_type:
                out["case_type"] = self.case_type
            out["state"] = self.state
        else:
            out["value"] = self.value
        return out


@dataclass(frozen=True, slots=True)
class Macro:
    id: str
    category: str
    title: dict[str, str]
    body: dict[str, str]
    shortcut: str | None = None
    tags: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()  # empty: every channel
    snippet: bool = False
    actions: tuple[Action, ...] = ()
    path: Path | None = None
    source: str = "shipped"
    # File line (1-based) and column where each locale's body text starts, to map Liquid
    # error positions back into the .toml file.
    body_at: dict[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    def title_for(self, locale: str) -> str:
        """The title in `locale`; zh-TW falls back to zh-CN converted to Traditional."""
        if text := self.title.get(locale):
            return text
        if locale == "zh-TW" and (simplified := self.title.get("zh-CN")):
            return to_traditional(simplified)
        return self.title.get(DEFAULT_LOCALE) or next(iter(self.title.values()), self.id)

    def allows_channel(self, channel: str | None) -> bool:
        return not self.channels or channel is None or channel in self.channels

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "shortcut": self.shortcut,
            "tags": list(self.tags),
            "channels": list(self.channels),
            "snippet": self.snippet,
            "title": dict(self.title),
            "source": self.source,
            "path": str(self.path) if self.path else None,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "body": dict(self.body),
            "actions": [action.as_dict() for action in self.actions],
        }


@dataclass(frozen=True, slots=True)
class Term:
    """A glossary entry: one concept and its form in each locale."""

    id: str
    category: str
    forms: dict[str, str]  # locale -> the term as written
    definition: str = ""
    preferred: dict[str, str] = field(default_factory=dict)  # locale -> phrasing to customers
    avoid: dict[str, tuple[str, ...]] = field(default_factory=dict)  # locale -> phrases
    path: Path | None = None
    line: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "category": self.category,
            "forms": dict(self.forms),
            "definition": self.definition,
            "preferred": dict(self.preferred),
            "avoid": {locale: list(phrases) for locale, phrases in self.avoid.items()},
        }


class MacroError(ValueError):
    """A macro that cannot be rendered or applied (missing variables, bad transition, ...)."""
