"""Loading the macro library: shipped, shared and personal folders, a broken file never fatal.

Layout of a folder: `<area>/<id>.toml`, one macro a file, and `glossary/*.toml` for terms.
A file that does not parse or lacks what a macro needs is skipped and reported as a Problem
(file:line:col: message); every other file still loads.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from agentcli.macros.actions import action_problems, make_action
from agentcli.macros.locate import Locations, locate
from agentcli.macros.model import LOCALES, SOURCES, Macro, Problem, Severity, Term

GLOSSARY_DIR = "glossary"
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def personal_dir() -> Path:
    return Path(user_config_dir("agentcli", appauthor=False)) / "macros"


def shipped_dir() -> Path | None:
    """The library shipped with agentcli: the copy packaged in the wheel (`agentcli/_macros`),
    else the repository's top-level `macros/` (editable installs and checkouts)."""
    packaged = Path(str(resources.files("agentcli"))) / "_macros"
    if packaged.is_dir():
        return packaged
    repo = Path(__file__).resolve().parents[2] / "macros"
    return repo if repo.is_dir() else None


@dataclass
class ParsedFile:
    macro: Macro | None = None
    terms: list[Term] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    locations: Locations | None = None
    raw: dict[str, Any] | None = None


def read_toml(path: Path) -> tuple[dict[str, Any] | None, str, list[Problem]]:
    """Parsed TOML, its source text, and a problem with the error position if it failed."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, "", [Problem(str(path), 1, 1, f"cannot read: {error}")]
    try:
        return tomllib.loads(source), source, []
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        line, col = 1, 1
        if match := _TOML_POSITION.search(message):
            line, col = int(match.group(1)), int(match.group(2))
            message = message[: match.start()].strip()
        elif "(at end of document)" in message:
            lines = source.splitlines() or [""]
            line, col = len(lines), len(lines[-1]) + 1
            message = message.replace("(at end of document)", "at the end of the file").strip()
        return None, source, [Problem(str(path), line, col, f"TOML syntax: {message}")]


def _locale_table(
    raw: dict[str, Any], key: str, where: Locations, file: str, problems: list[Problem]
) -> dict[str, str]:
    table = raw.get(key)
    if not isinstance(table, dict):
        line, col = where.key("", key)
        problems.append(Problem(file, line, col, f"missing [{key}] table (one string per locale)"))
        return {}
    out: dict[str, str] = {}
    for locale, text in table.items():
        line, col = where.key(key, locale)
        if locale not in LOCALES:
            problems.append(
                Problem(
                    file, line, col, f"[{key}] unknown locale {locale!r} ({', '.join(LOCALES)})"
                )
            )
        elif not isinstance(text, str):
            problems.append(Problem(file, line, col, f"[{key}] {locale} must be a string"))
        else:
            out[locale] = text
    return out


def parse_macro(path: Path, source: str = "shipped") -> ParsedFile:
    """Read one macro file. `macro` is None when a problem of severity error was found."""
    file = str(path)
    raw, text, problems = read_toml(path)
    if raw is None:
        return ParsedFile(problems=problems)
    where = locate(text)
    parsed = ParsedFile(problems=problems, locations=where, raw=raw)

    def problem(table: str, key: str, message: str, severity: str = Severity.ERROR) -> None:
        line, col = where.key(table, key)
        problems.append(Problem(file, line, col, message, severity))

    for key in ("id", "category"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problem("", key, f"missing or empty {key!r} (a string)")
    shortcut = raw.get("shortcut")
    if shortcut is not None and (not isinstance(shortcut, str) or not shortcut.strip()):
        problem("", "shortcut", "shortcut must be a non-empty string")
    for key in ("tags", "channels"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problem("", key, f"{key} must be a list of strings")
    if "snippet" in raw and not isinstance(raw["snippet"], bool):
        problem("", "snippet", "snippet must be true or false")
    known = {"id", "category", "shortcut", "tags", "channels", "snippet", "title", "body"}
    for key in raw:
        if key not in known | {"actions"}:
            problem("", key, f"unknown key {key!r}", Severity.WARNING)
    snippet = raw.get("snippet") is True
    title = (
        _locale_table(raw, "title", where, file, problems) if not snippet or "title" in raw else {}
    )
    body = _locale_table(raw, "body", where, file, problems)
    actions = []
    raw_actions = raw.get("actions", [])
    if not isinstance(raw_actions, list):
        problem("", "actions", "actions must be [[actions]] tables")
        raw_actions = []
    for index, item in enumerate(raw_actions):
        table = f"actions[{index}]"
        line, _ = where.table(table)
        errors = action_problems(item)
        for message in errors:
            key = "type" if "action type" in message else "value"
            key_line, key_col = where.key(table, key)
            if isinstance(item, dict) and item.get("type") == "set-case":
                key_line, key_col = where.key(table, "state" if "state" in message else "case_type")
            problems.append(Problem(file, key_line, key_col, message))
        if not errors:
            actions.append(make_action(item, line))
    if any(p.severity == Severity.ERROR for p in problems):
        return parsed
    parsed.macro = Macro(
        id=raw["id"].strip(),
        category=raw["category"].strip(),
        title=title,
        body=body,
        shortcut=shortcut.strip() if isinstance(shortcut, str) else None,
        tags=tuple(raw.get("tags", [])),
        channels=tuple(raw.get("channels", [])),
        snippet=snippet,
        actions=tuple(actions),
        path=path,
        source=source,
        body_at={locale: where.values.get(("body", locale), (1, 1)) for locale in body},
    )
    return parsed


def parse_glossary(path: Path) -> ParsedFile:
    """Read one glossary file; a bad entry is reported and skipped, the rest kept."""
    file = str(path)
    raw, text, problems = read_toml(path)
    if raw is None:
        return ParsedFile(problems=problems)
    where = locate(text)
    parsed = ParsedFile(problems=problems, locations=where, raw=raw)
    entries = raw.get("term", [])
    if not isinstance(entries, list):
        problems.append(Problem(file, 1, 1, "expected [[term]] tables"))
        return parsed
    for index, entry in enumerate(entries):
        table = f"term[{index}]"
        line, col = where.table(table)
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            problems.append(Problem(file, line, col, "term without an id"))
            continue
        forms = {loc: entry[loc] for loc in LOCALES if isinstance(entry.get(loc), str)}
        bad = False
        for locale in ("zh-CN", "en", "uk"):
            if locale not in forms:
                key_line, key_col = where.key(table, "id")
                problems.append(
                    Problem(file, key_line, key_col, f"term {entry['id']}: missing {locale} form")
                )
                bad = True
        preferred = entry.get("preferred", {})
        avoid = entry.get("avoid", {})
        if not isinstance(preferred, dict) or not all(
            isinstance(v, str) for v in preferred.values()
        ):
            problems.append(Problem(file, line, col, f"term {entry['id']}: bad [term.preferred]"))
            bad = True
        if not isinstance(avoid, dict) or not all(
            isinstance(v, list) and all(isinstance(p, str) for p in v) for v in avoid.values()
        ):
            problems.append(
                Problem(file, line, col, f"term {entry['id']}: [term.avoid] takes lists")
            )
            bad = True
        if bad:
            continue
        parsed.terms.append(
            Term(
                id=entry["id"],
                category=str(entry.get("category", "")),
                forms=forms,
                definition=str(entry.get("definition", "")),
                preferred=dict(preferred),
                avoid={locale: tuple(phrases) for locale, phrases in avoid.items()},
                path=path,
                line=line,
            )
        )
    return parsed


def macro_files(root: Path) -> list[Path]:
    """Macro files under `root`, sorted, excluding the glossary folder and hidden folders."""
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.rglob("*.toml")
        if p.relative_to(root).parts[0] != GLOSSARY_DIR
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def glossary_files(root: Path) -> list[Path]:
    folder = root / GLOSSARY_DIR
    return sorted(folder.rglob("*.toml")) if folder.is_dir() else []


@dataclass
class Library:
    """The merged library: one macro per id (highest-precedence layer wins)."""

    macros: dict[str, Macro] = field(default_factory=dict)
    terms: dict[str, Term] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    overridden: list[Macro] = field(default_factory=list)  # lower layers' copies, for `show`

    def visible(self) -> list[Macro]:
        """Macros for the picker: everything except include-only snippets."""
        return [m for m in self.macros.values() if not m.snippet]

    def by_shortcut(self, shortcut: str) -> Macro | None:
        return next((m for m in self.macros.values() if m.shortcut == shortcut), None)


def load_library(
    shipped: Path | bool | None = True,
    shared: Path | None = None,
    personal: Path | bool | None = True,
) -> Library:
    """Load and merge the layers. `True` means the default folder, None or False none."""
    roots: list[tuple[str, Path | None]] = [
        ("shipped", shipped_dir() if shipped is True else (shipped or None)),
        ("shared", shared),
        ("personal", personal_dir() if personal is True else (personal or None)),
    ]
    return load_roots([(name, root) for name, root in roots if root is not None])


def load_roots(roots: Iterable[tuple[str, Path]]) -> Library:
    library = Library()
    for source, root in sorted(roots, key=lambda pair: SOURCES.index(pair[0])):
        layer: dict[str, Macro] = {}
        for path in macro_files(root):
            parsed = parse_macro(path, source)
            library.problems += parsed.problems
            macro = parsed.macro
            if macro is None:
                continue
            if macro.id in layer:
                line, col = parsed.locations.key("", "id") if parsed.locations else (1, 1)
                library.problems.append(
                    Problem(
                        str(path),
                        line,
                        col,
                        f"duplicate id {macro.id!r} (also in "
                        f"{layer[macro.id].path}); this file is ignored",
                    )
                )
                continue
            layer[macro.id] = macro
        for macro_id, macro in layer.items():
            if macro_id in library.macros:
                library.overridden.append(library.macros[macro_id])
            library.macros[macro_id] = macro
        for path in glossary_files(root):
            parsed = parse_glossary(path)
            library.problems += parsed.problems
            for term in parsed.terms:
                library.terms[term.id] = term
    return library
