"""Lint macro and glossary files: every problem with the file, line and column to fix it.

Checks: TOML syntax; missing or mistyped fields; unknown action types and values; case
steps no ticket could ever take; duplicate ids and shortcuts; missing locales (zh-TW only an
`info`, since OpenCC makes it from zh-CN); Liquid syntax; variables outside the context
schema (agentcli.macros.schema); unknown filters and glossary terms; includes of unknown
ids and include cycles; bodies longer than a channel accepts (CHANNEL_LIMITS, measured on
the template text, so a body is flagged before placeholders are filled).

A macro with `channels = []` is usable everywhere, so an over-long body is only a warning
there ("restrict its channels"); naming a limited channel makes it an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from liquid.exceptions import LiquidError

from agentcli.macros.actions import possible_from_somewhere
from agentcli.macros.loader import (
    GLOSSARY_DIR,
    glossary_files,
    macro_files,
    parse_glossary,
    parse_macro,
)
from agentcli.macros.locate import Locations
from agentcli.macros.model import (
    CHANNEL_LIMITS,
    LOCALES,
    REQUIRED_LOCALES,
    Macro,
    MacroError,
    Problem,
    Severity,
    Term,
)
from agentcli.macros.render import Renderer
from agentcli.macros.schema import check_path

_INCLUDE = re.compile(r"""\{%-?\s*(?:include|render)\s+(["'])(.*?)\1""")
_TERM_LITERAL = re.compile(r"""(["'])([^"'\n]*)\1\s*\|\s*term\b""")
_LOCALE_ORDER = {locale: i for i, locale in enumerate(LOCALES)}


def lint(paths: Iterable[str | Path], *, known: Mapping[str, Macro] | None = None) -> list[Problem]:
    """Problems in the macro and glossary files under `paths` (files or folders).

    `known` adds macros includes may refer to without linting them (e.g. the shipped
    library when linting a personal folder)."""
    macro_paths, glossary_paths = _collect(paths)
    problems: list[Problem] = []
    macros: dict[str, Macro] = {}
    terms: dict[str, Term] = {}
    shortcuts: dict[str, Macro] = {}
    for path in glossary_paths:
        parsed = parse_glossary(path)
        problems += parsed.problems
        for term in parsed.terms:
            if term.id in terms:
                problems.append(
                    Problem(
                        str(path),
                        term.line,
                        1,
                        f"duplicate term id {term.id!r} "
                        f"(also {terms[term.id].path}:{terms[term.id].line})",
                    )
                )
            terms[term.id] = term
    for path in macro_paths:
        parsed = parse_macro(path)
        problems += parsed.problems
        macro = parsed.macro
        if macro is None:
            continue
        where = parsed.locations
        assert where is not None
        if macro.id in macros:
            line, col = where.key("", "id")
            problems.append(
                Problem(
                    str(path),
                    line,
                    col,
                    f"duplicate id {macro.id!r} (also {macros[macro.id].path})",
                )
            )
            continue
        macros[macro.id] = macro
        if macro.shortcut:
            if macro.shortcut in shortcuts:
                line, col = where.key("", "shortcut")
                problems.append(
                    Problem(
                        str(path),
                        line,
                        col,
                        f"duplicate shortcut {macro.shortcut!r} "
                        f"(also {shortcuts[macro.shortcut].id})",
                    )
                )
            else:
                shortcuts[macro.shortcut] = macro
        problems += _locales(macro, where)
        if why := possible_from_somewhere(list(macro.actions)):
            line = next(a.line for a in macro.actions if a.type == "set-case")
            problems.append(Problem(str(path), line, 1, f"impossible case steps: {why}"))
        problems += _lengths(macro, where)
    library = {**(known or {}), **macros}
    renderer = Renderer(library, terms)
    for macro in macros.values():
        problems += _liquid(macro, renderer, library, terms)
    problems += _cycles(macros, library)
    return sorted(set(problems), key=lambda p: (p.file, p.line, p.col, p.message))


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == Severity.ERROR for p in problems)


def _collect(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    macro_paths: list[Path] = []
    glossary_paths: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if path.name == GLOSSARY_DIR:
                glossary_paths += sorted(path.rglob("*.toml"))
            else:
                macro_paths += macro_files(path)
                glossary_paths += glossary_files(path)
        elif GLOSSARY_DIR in path.parts:
            glossary_paths.append(path)
        else:
            macro_paths.append(path)
    return list(dict.fromkeys(macro_paths)), list(dict.fromkeys(glossary_paths))


def _locales(macro: Macro, where: Locations) -> list[Problem]:
    problems = []
    file = str(macro.path)
    tables = ("body",) if macro.snippet and not macro.title else ("title", "body")
    for table in tables:
        present = macro.title if table == "title" else macro.body
        line, col = where.table(table)
        for locale in REQUIRED_LOCALES:
            if locale not in present:
                problems.append(Problem(file, line, col, f"[{table}] missing {locale}"))
        if "zh-TW" not in present and "zh-CN" in present:
            problems.append(
                Problem(
                    file,
                    line,
                    col,
                    f"[{table}] no zh-TW: made from zh-CN with OpenCC",
                    Severity.INFO,
                )
            )
    return problems


def _lengths(macro: Macro, where: Locations) -> list[Problem]:
    problems = []
    channels = [c for c in (macro.channels or CHANNEL_LIMITS) if c in CHANNEL_LIMITS]
    for locale, body in macro.body.items():
        for channel in channels:
            limit = CHANNEL_LIMITS[channel]
            if len(body) > limit:
                line, col = where.key("body", locale)
                severity = Severity.ERROR if macro.channels else Severity.WARNING
                hint = "" if macro.channels else " (set channels to where it fits, e.g. email)"
                problems.append(
                    Problem(
                        str(macro.path),
                        line,
                        col,
                        f"{locale} body is {len(body)} characters; {channel} takes {limit}{hint}",
                        severity,
                    )
                )
    return problems


def _position(macro: Macro, locale: str, source: str, index: int) -> tuple[int, int]:
    """File line/col of character `index` of the locale's body template."""
    start_line, start_col = macro.body_at.get(locale, (1, 1))
    before = source[:index]
    line_in = before.count("\n")
    col_in = index - (before.rfind("\n") + 1)
    return start_line + line_in, (start_col + col_in if line_in == 0 else col_in + 1)


def _liquid(
    macro: Macro, renderer: Renderer, library: Mapping[str, Macro], terms: Mapping[str, Term]
) -> list[Problem]:
    problems: list[Problem] = []
    file = str(macro.path)
    env_filters = renderer.env("en").filters
    for locale in sorted(macro.body, key=_LOCALE_ORDER.__getitem__):
        source = macro.body[locale]

        def at(index: int, message: str, locale: str = locale, source: str = source) -> None:
            line, col = _position(macro, locale, source, max(index, 0))
            problems.append(Problem(file, line, col, f"{locale}: {message}"))

        try:
            template = renderer.env(locale).from_string(source, name=macro.id)
        except LiquidError as error:
            index = error.token.start_index if error.token else 0
            at(index, f"Liquid syntax: {error.message}")
            continue
        except MacroError as error:  # pragma: no cover - from_string raises LiquidError
            at(0, str(error))
            continue
        try:
            analysis = template.analyze(include_partials=False)
        except LiquidError as error:
            at(0, f"Liquid: {error.message}")
            continue
        for variables in analysis.globals.values():
            for variable in variables:
                if why := check_path(list(variable.segments)):
                    at(variable.span.index, why)
        for name, spans in analysis.filters.items():
            if name not in env_filters:
                for span in spans:
                    at(span.index, f"unknown filter {name!r}")
        for match in _INCLUDE.finditer(source):
            if match.group(2) not in library:
                at(match.start(2), f"include of unknown macro {match.group(2)!r}")
        for match in _TERM_LITERAL.finditer(source):
            if match.group(2) not in terms:
                at(match.start(2), f"unknown glossary term {match.group(2)!r}")
    return problems


def _cycles(macros: Mapping[str, Macro], library: Mapping[str, Macro]) -> list[Problem]:
    """Each include cycle once, reported at the include that closes it."""
    graph = {
        macro_id: {m.group(2) for body in macro.body.values() for m in _INCLUDE.finditer(body)}
        for macro_id, macro in library.items()
    }
    problems: list[Problem] = []
    reported: set[frozenset[str]] = set()
    for start in macros:
        stack: list[tuple[str, list[str]]] = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for child in sorted(graph.get(node, ())):
                if child == start:
                    cycle = frozenset(trail)
                    if cycle not in reported:
                        reported.add(cycle)
                        macro = macros[start]
                        locale, index = _find_include(macro, trail[1] if len(trail) > 1 else start)
                        line, col = _position(macro, locale, macro.body.get(locale, ""), index)
                        problems.append(
                            Problem(
                                str(macro.path),
                                line,
                                col,
                                "include cycle: " + " -> ".join([*trail, start]),
                            )
                        )
                elif child not in trail and child in graph:
                    stack.append((child, [*trail, child]))
    return problems


def _find_include(macro: Macro, target: str) -> tuple[str, int]:
    for locale in sorted(macro.body, key=_LOCALE_ORDER.__getitem__):
        for match in _INCLUDE.finditer(macro.body[locale]):
            if match.group(2) == target:
                return locale, match.start(2)
    return next(iter(macro.body), "en"), 0
