"""Rendering macro bodies with python-liquid: sandboxed, compiled once, strict about gaps.

* One Liquid `Environment` per locale, so `{% include "signature" %}` picks the snippet in
  the same locale and the `money`/`local_date`/`term` filters know the locale.
* Templates are compiled on first use and cached per (locale, macro id).
* Undefined variables are errors, but we report *all* of them: a collecting Undefined
  records each missing path when it is output, iterated or used as a number, renders as "",
  and after the render we throw the text away if anything was recorded. A missing value in
  a condition (`{% if order.tracking_number %}`) is just false, so templates can branch on
  optional data.
* zh-TW without its own text uses the zh-CN template converted with OpenCC (s2twp) before
  compiling, so the output never carries Simplified characters from the template.
* Sandbox: Liquid cannot call Python; we also cap loops, output size and include depth, and
  includes resolve only to library macros, never files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from liquid import BoundTemplate, Environment, Undefined
from liquid.exceptions import LiquidError, TemplateNotFoundError, UndefinedError
from liquid.filter import with_context

from agentcli.domain.vocabulary import LANGUAGES
from agentcli.macros.chinese import to_traditional
from agentcli.macros.filters import format_date, format_money, term_form
from agentcli.macros.model import DEFAULT_LOCALE, Macro, MacroError, Term
from agentcli.macros.schema import CONTEXT_SCHEMA

CUSTOM_FILTERS = ("money", "local_date", "term")
_EMPTY_ROOTS: dict[str, Any] = {root: {} for root in CONTEXT_SCHEMA}
_missing: ContextVar[list[str] | None] = ContextVar("missing_vars", default=None)
_UNDEFINED_HINT = re.compile(r"^'?(.+?)'? is undefined$")


def _record(undefined: Undefined) -> None:
    missing = _missing.get()
    if missing is None:
        return
    hint = undefined.hint or ""
    match = _UNDEFINED_HINT.match(hint)
    name = match.group(1) if match else (f"{undefined.name} ({hint})" if hint else undefined.name)
    if name not in missing:
        missing.append(name)


class CollectingUndefined(Undefined):
    """Strict in effect (the render fails), but collects every missing name, not the first."""

    __slots__ = ()

    def __str__(self) -> str:
        _record(self)
        return ""

    def __int__(self) -> int:
        _record(self)
        return 0

    def __iter__(self) -> Iterator[Any]:
        _record(self)
        return iter(())


class SandboxedEnvironment(Environment):
    """Resource limits so a bad or hostile macro can't hang the console or fill memory."""

    loop_iteration_limit = 1_000
    output_stream_limit = 64_000
    context_depth_limit = 8  # include depth; also stops include cycles quickly
    local_namespace_limit = 16_000

    def __init__(self, renderer: Renderer, locale: str) -> None:
        super().__init__(undefined=CollectingUndefined, strict_filters=True, autoescape=False)
        self.renderer = renderer
        self.locale = locale

    def get_template(
        self,
        name: str,
        *,
        globals: Mapping[str, object] | None = None,
        context: Any = None,
        **kwargs: object,
    ) -> BoundTemplate:
        """Includes name a macro id; resolve it from the library, compiled and cached."""
        macro = self.renderer.macros.get(name)
        if macro is None:
            raise TemplateNotFoundError(f"include of unknown macro {name!r}", token=None)
        return self.renderer.template(macro, self.locale)


@dataclass(frozen=True, slots=True)
class Rendered:
    """`text` is None whenever `missing` is not empty: nothing half-rendered escapes."""

    text: str | None
    missing: tuple[str, ...] = ()


def normalize_locale(value: str | None) -> str | None:
    """zh_TW, zh-Hant, zh-HK -> zh-TW; zh, zh-Hans -> zh-CN; uk-UA -> uk; en-US -> en."""
    if not value:
        return None
    text = value.strip().replace("_", "-").lower()
    if text.startswith("zh"):
        traditional = any(mark in text for mark in ("tw", "hant", "hk", "mo"))
        return "zh-TW" if traditional else "zh-CN"
    base = text.split("-")[0]
    for locale in LANGUAGES:
        if locale.lower() == base:
            return locale
    return None


def locale_for(context: Mapping[str, Any]) -> str:
    """The customer's language: the ticket's language, else the customer's locale, else en."""
    ticket = context.get("ticket") or {}
    customer = context.get("customer") or {}
    return (
        normalize_locale(ticket.get("language"))
        or normalize_locale(customer.get("locale"))
        or DEFAULT_LOCALE
    )


class Renderer:
    """Compiles and renders the macros of one library. Cheap to keep; not thread-safe to
    mutate, but rendering from several threads is fine (the missing list is per call)."""

    def __init__(self, macros: Mapping[str, Macro], terms: Mapping[str, Term]) -> None:
        self.macros = macros
        self.terms = terms
        self._cache: dict[tuple[str, str, str], BoundTemplate] = {}
        self._envs = {locale: self._make_env(locale) for locale in LANGUAGES}

    def _make_env(self, locale: str) -> SandboxedEnvironment:
        env = SandboxedEnvironment(self, locale)

        @with_context
        def money(value: Any, currency: str | None = None, *, context: Any) -> str:
            if isinstance(value, Undefined):
                _record(value)
                return ""
            if currency is None and not isinstance(value, Mapping):
                currency = context.get(["order", "total", "currency"], token=None, default=None)
            try:
                return format_money(value, locale, currency)
            except ValueError as error:
                raise MacroError(f"money: {error}") from None

        @with_context
        def local_date(value: Any, *, context: Any) -> str:
            if isinstance(value, Undefined):
                _record(value)
                return ""
            zone = context.get(["shop", "timezone"], token=None, default=None)
            try:
                return format_date(value, locale, zone if isinstance(zone, str) else None)
            except ValueError as error:
                raise MacroError(f"local_date: {error}") from None

        def term(value: Any) -> str:
            if isinstance(value, Undefined):
                _record(value)
                return ""
            found = self.terms.get(str(value))
            if found is None:
                raise MacroError(f"term: unknown glossary term {value!r}")
            return term_form(found, locale)

        env.add_filter("money", money)
        env.add_filter("local_date", local_date)
        env.add_filter("term", term)
        return env

    def env(self, locale: str) -> SandboxedEnvironment:
        return self._envs[locale]

    def source(self, macro: Macro, locale: str, text: str | None = None) -> str:
        """The template text for `locale` (zh-TW made from zh-CN when absent)."""
        bodies = macro.body if text is None else {locale: text}
        if locale in bodies:
            return bodies[locale]
        if locale == "zh-TW" and "zh-CN" in bodies:
            return to_traditional(bodies["zh-CN"])
        raise MacroError(f"macro {macro.id!r} has no {locale} text")

    def template(self, macro: Macro, locale: str, part: str = "body") -> BoundTemplate:
        key = (locale, macro.id, part)
        template = self._cache.get(key)
        if template is None:
            source = self.source(macro, locale) if part == "body" else part
            if part != "body" and locale == "zh-TW":
                source = to_traditional(source)
            try:
                template = self._envs[locale].from_string(source, name=macro.id)
            except LiquidError as error:
                raise MacroError(f"macro {macro.id!r} ({locale}): {error.message}") from None
            self._cache[key] = template
        return template

    def render(
        self, macro: Macro, context: Mapping[str, Any], locale: str, part: str = "body"
    ) -> Rendered:
        """Render the body (or `part`, another template text of this macro such as a note)."""
        template = self.template(macro, locale, part)
        # Every root present (empty when unknown) so a gap is named in full: order.number,
        # not just "order".
        data = {**_EMPTY_ROOTS, **context}
        missing: list[str] = []
        token = _missing.set(missing)
        try:
            text = template.render(**data)
        except UndefinedError as error:  # a builtin filter insisting on a value
            missing.append(str(error.message))
            text = None
        except MacroError:
            raise
        except LiquidError as error:
            raise MacroError(f"macro {macro.id!r} ({locale}): {error.message}") from None
        finally:
            _missing.reset(token)
        if missing:
            return Rendered(None, tuple(missing))
        return Rendered(text)
