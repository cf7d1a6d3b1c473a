"""`agentcli macro …` and `agentcli terms …`: the macro library from the command line.

Library layers: the shipped `macros/`, a shared folder (`--shared` or $AGENTCLI_SHARED_MACROS,
filled by sync) and the personal folder (user config dir `agentcli/macros`, or
$AGENTCLI_PERSONAL_MACROS). Load problems never stop a command; they go to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import click
from platformdirs import user_config_dir
from rich.console import Console
from rich.text import Text

from agentcli.cli.context import CliContext
from agentcli.cli.output import fail, print_json, print_table
from agentcli.domain.inert import inert
from agentcli.macros.context import build_context
from agentcli.macros.glossary import Glossary
from agentcli.macros.lint import has_errors, lint
from agentcli.macros.loader import Library, load_library, personal_dir, shipped_dir
from agentcli.macros.model import LOCALES, Macro, MacroError
from agentcli.macros.preview import Preview, preview, to_mutations
from agentcli.macros.render import Renderer, locale_for, normalize_locale
from agentcli.macros.suggest import suggest
from agentcli.store.macro_usage import similar_macro_usage

SHARED_ENV = "AGENTCLI_SHARED_MACROS"
PERSONAL_ENV = "AGENTCLI_PERSONAL_MACROS"
AGENT_ENV = "AGENTCLI_AGENT"


# --- Loading -------------------------------------------------------------------------------


def _library(quiet: bool = False) -> Library:
    personal = Path(os.environ[PERSONAL_ENV]) if os.environ.get(PERSONAL_ENV) else personal_dir()
    shared = Path(os.environ[SHARED_ENV]) if os.environ.get(SHARED_ENV) else None
    library = load_library(shipped=True, shared=shared, personal=personal)
    if not quiet:
        for problem in library.problems:
            click.echo(f"warning: skipped: {inert(str(problem))}", err=True)
    return library


def _shop() -> dict[str, Any]:
    """Shop facts for templates: `shop.toml` in the user config dir, when present."""
    path = Path(user_config_dir("agentcli", appauthor=False)) / "shop.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def _row(db: Any, sql: str, params: tuple[Any, ...]) -> dict[str, Any] | None:
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cursor.description], row, strict=True))


def ticket_context(db: Any, ticket_id: int, me: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(ticket row, Liquid context) for one ticket of the local store."""
    ticket = _row(db, "SELECT * FROM tickets WHERE id = ?", (ticket_id,))
    if ticket is None:
        raise MacroError(f"ticket {ticket_id}: not in the local store")
    customer = _row(db, "SELECT * FROM customers WHERE id = ?", (ticket["requester_id"],))
    order = (
        _row(db, "SELECT * FROM orders WHERE id = ?", (ticket["order_id"],))
        if ticket["order_id"]
        else None
    )
    agent = _row(db, "SELECT * FROM agents WHERE login = ?", (me,)) if me else None
    if me and agent is None:
        agent = {"login": me, "name": me}
    return ticket, build_context(ticket, customer, order, agent, _shop())


def _last_customer_message(db: Any, ticket_id: int) -> str:
    row = _row(
        db,
        "SELECT body FROM messages WHERE ticket_id = ? AND author_kind = 'customer'"
        " ORDER BY created_at DESC, id DESC LIMIT 1",
        (ticket_id,),
    )
    return row["body"] if row else ""


def _find(library: Library, macro_id: str) -> Macro:
    macro = library.macros.get(macro_id) or library.by_shortcut(macro_id)
    if macro is None:
        fail(f"no macro {macro_id!r} (see `agentcli macro list`)")
    assert macro is not None
    return macro


def _vars(pairs: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--var expects key=value, got {pair!r}")
        out[key.strip()] = value
    return out


def _locale(value: str | None) -> str | None:
    if value is None:
        return None
    locale = normalize_locale(value)
    if locale is None:
        fail(f"unknown locale {value!r} (one of {', '.join(LOCALES)})")
    return locale


locale_option = click.option("--locale", "locale", help="zh-CN, zh-TW, en or uk.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
me_option = click.option("--me", envvar=AGENT_ENV, default="", help="Your agent login.")


# --- macro ---------------------------------------------------------------------------------


@click.group()
def macro() -> None:
    """Canned replies with actions: list, show, render, apply, lint, suggest."""


@macro.command("list")
@click.option("--category", help="Only macros whose category starts with this.")
@locale_option
@click.option("--all", "show_all", is_flag=True, help="Include include-only snippets.")
@json_option
def list_macros(category: str | None, locale: str | None, show_all: bool, as_json: bool) -> None:
    """Macros in the library (personal > shared > shipped)."""
    library = _library(quiet=as_json)
    locale = _locale(locale) or "en"
    macros = sorted(
        (m for m in library.macros.values() if show_all or not m.snippet),
        key=lambda m: (m.category, m.id),
    )
    if category:
        macros = [m for m in macros if m.category.startswith(category)]
    if as_json:
        print_json([{**m.summary(), "title": m.title_for(locale)} for m in macros])
        return
    rows = [
        {
            "id": m.id,
            "shortcut": m.shortcut or "",
            "category": m.category,
            "title": m.title_for(locale),
            "source": m.source,
        }
        for m in macros
    ]
    print_table(rows, ("id", "shortcut", "category", "title", "source"))


@macro.command()
@click.argument("macro_id")
@json_option
def show(macro_id: str, as_json: bool) -> None:
    """One macro: titles, bodies and actions (MACRO_ID may be a shortcut)."""
    found = _find(_library(quiet=as_json), macro_id)
    if as_json:
        print_json(found.as_dict())
        return
    console = Console(soft_wrap=True)
    console.print(Text(f"{found.id}  {found.shortcut or ''}  [{found.category}]", style="bold"))
    console.print(Text(f"{found.source}: {found.path}", style="dim"))
    for locale in LOCALES:
        if locale in found.body:
            console.print(Text(f"\n— {locale}: {found.title.get(locale, '')}", style="cyan"))
            console.print(Text(inert(found.body[locale])))
    for action in found.actions:
        console.print(Text(f"action: {json.dumps(action.as_dict(), ensure_ascii=False)}"))


@macro.command()
@click.argument("macro_id")
@click.option("--ticket", "ticket_id", type=int, required=True)
@locale_option
@click.option("--var", "var_pairs", multiple=True, help="key=value, available as vars.key.")
@me_option
@json_option
@click.pass_obj
def render(
    obj: CliContext,
    macro_id: str,
    ticket_id: int,
    locale: str | None,
    var_pairs: tuple[str, ...],
    me: str,
    as_json: bool,
) -> None:
    """Render a macro for a ticket; missing variables are named and nothing is printed."""
    library = _library(quiet=as_json)
    found = _find(library, macro_id)
    try:
        _, context = ticket_context(obj.db, ticket_id, me)
        result = preview(
            found,
            context,
            _locale(locale),
            _vars(var_pairs),
            renderer=Renderer(library.macros, library.terms),
        )
    except MacroError as error:
        fail(str(error))
    if as_json:
        print_json(result.as_dict())
    if result.missing_vars:
        fail("missing variables: " + ", ".join(result.missing_vars))
    if not as_json:
        click.echo(inert(result.text or ""))


def _ticket_ids(
    db: Any, ticket_id: int | None, query: str | None, from_stdin: bool, me: str
) -> list[int]:
    if sum(x is not None and x is not False for x in (ticket_id, query, from_stdin or None)) != 1:
        fail("give exactly one of --ticket N, --query Q or - (ticket ids on stdin)")
    if ticket_id is not None:
        return [ticket_id]
    if from_stdin:
        ids = []
        for token in sys.stdin.read().split():
            if not token.isdigit():
                fail(f"stdin: not a ticket id: {token!r}")
            ids.append(int(token))
        return ids
    try:
        from agentcli.domain.query import QuerySyntaxError, parse_query
        from agentcli.store.inbox import inbox_page
    except ImportError:
        fail("--query needs the inbox store (agentcli.store.inbox), not in this build")
    try:
        parsed = parse_query(query or "")
    except QuerySyntaxError as error:
        fail(f"query: {error}")
    ids, after = [], None
    while True:
        page = inbox_page(db, parsed, me=me or None, limit=500, after=after)
        ids += [row.as_dict()["id"] for row in page.rows]
        if page.next_key is None:
            return ids
        after = page.next_key


@macro.command()
@click.argument("macro_id")
@click.argument("stdin_marker", required=False, metavar="[-]")
@click.option("--ticket", "ticket_id", type=int)
@click.option("--query", help="Apply to every ticket matching this inbox query.")
@click.option("--var", "var_pairs", multiple=True, help="key=value, available as vars.key.")
@click.option("--dry-run", is_flag=True, help="Show the reply and field changes; change nothing.")
@locale_option
@me_option
@json_option
@click.pass_obj
def apply(
    obj: CliContext,
    macro_id: str,
    stdin_marker: str | None,
    ticket_id: int | None,
    query: str | None,
    var_pairs: tuple[str, ...],
    dry_run: bool,
    locale: str | None,
    me: str,
    as_json: bool,
) -> None:
    """Apply a macro (reply + actions) to tickets: --ticket N, --query Q, or - for stdin ids.

    Every ticket is previewed first; if any has missing variables or an impossible case
    step, nothing is written."""
    if stdin_marker not in (None, "-"):
        fail(f"unexpected argument {stdin_marker!r} (use - to read ticket ids from stdin)")
    library = _library(quiet=as_json)
    found = _find(library, macro_id)
    ids = _ticket_ids(obj.db, ticket_id, query, stdin_marker == "-", me)
    renderer = Renderer(library.macros, library.terms)
    variables = _vars(var_pairs)
    plans: list[tuple[dict[str, Any], Preview]] = []
    problems: list[str] = []
    for tid in ids:
        try:
            ticket, context = ticket_context(obj.db, tid, me)
            result = preview(found, context, _locale(locale), variables, renderer=renderer)
        except MacroError as error:
            problems.append(str(error))
            continue
        if result.missing_vars:
            problems.append(f"ticket {tid}: missing variables: {', '.join(result.missing_vars)}")
        problems += [f"ticket {tid}: {error}" for error in result.errors]
        plans.append((ticket, result))
    if dry_run:
        _print_plans(plans, as_json)
        if problems:
            fail("; ".join(problems))
        return
    if problems:
        fail("; ".join(problems) + " (nothing applied)")
    from agentcli.store.db import transaction
    from agentcli.store.outbox import enqueue_in

    written = []
    # One transaction for every ticket: a mutation the store refuses leaves nothing applied.
    with transaction(obj.db) as conn:
        for ticket, result in plans:
            mutations = to_mutations(result, ticket["id"], ticket["version"], me)
            try:
                for mutation in mutations:
                    enqueue_in(conn, mutation, author=me or "me")
            except ValueError as error:
                fail(f"ticket {ticket['id']}: {error} (nothing applied)")
            written.append({"ticket": ticket["id"], "mutations": [str(m.type) for m in mutations]})
    if as_json:
        print_json(written)
    else:
        for item in written:
            click.echo(f"ticket {item['ticket']}: queued {', '.join(item['mutations'])}")


def _print_plans(plans: list[tuple[dict[str, Any], Preview]], as_json: bool) -> None:
    if as_json:
        print_json([{"ticket": t["id"], **p.as_dict()} for t, p in plans])
        return
    console = Console(soft_wrap=True)
    for ticket, result in plans:
        console.print(Text(f"# ticket {ticket['id']} ({result.locale})", style="bold"))
        console.print(Text(inert(result.text or "(not rendered: missing variables)")))
        for note in result.notes:
            console.print(Text(f"note: {inert(note)}", style="yellow"))
        for change in result.field_changes:
            console.print(Text(f"  {change.field}: {change.before!r} -> {change.after!r}"))


@macro.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@json_option
def lint_command(paths: tuple[Path, ...], as_json: bool) -> None:
    """Check macro files (default: the shipped, shared and personal folders)."""
    known = None
    if not paths:
        roots = [shipped_dir(), os.environ.get(SHARED_ENV), os.environ.get(PERSONAL_ENV)]
        targets = [Path(p) for p in roots if p and Path(p).is_dir()]
        if not os.environ.get(PERSONAL_ENV) and personal_dir().is_dir():
            targets.append(personal_dir())
    else:
        targets = list(paths)
        known = _library(quiet=True).macros
    problems = lint(targets, known=known)
    if as_json:
        print_json([p.as_dict() for p in problems])
    else:
        for problem in problems:
            click.echo(inert(str(problem)))
    if has_errors(problems):
        raise SystemExit(1)


@macro.command("suggest")
@click.option("--ticket", "ticket_id", type=int, required=True)
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True)
@me_option
@json_option
@click.pass_obj
def suggest_command(obj: CliContext, ticket_id: int, limit: int, me: str, as_json: bool) -> None:
    """The macros that best fit a ticket, with the reasons."""
    library = _library(quiet=as_json)
    try:
        _, context = ticket_context(obj.db, ticket_id, me)
    except MacroError as error:
        fail(str(error))
    glossary = Glossary(library.terms.values())
    found = suggest(
        library.macros.values(),
        context,
        _last_customer_message(obj.db, ticket_id),
        glossary,
        locale_for(context),
        limit,
        usage=similar_macro_usage(obj.db, ticket_id),
    )
    if as_json:
        print_json([s.as_dict() for s in found])
        return
    locale = locale_for(context)
    for item in found:
        click.echo(f"{item.macro.id}\t{item.score}\t{item.macro.title_for(locale)}")
        click.echo(f"\t{'; '.join(item.reasons)}")


# --- terms ---------------------------------------------------------------------------------


@click.group()
def terms() -> None:
    """The terminology glossary: lookup and checking text."""


@terms.command()
@click.argument("word")
@json_option
def lookup(word: str, as_json: bool) -> None:
    """Terms matching WORD in any language."""
    glossary = Glossary(_library(quiet=as_json).terms.values())
    found = glossary.lookup(word)
    if as_json:
        print_json([{**t.as_dict(), "forms": glossary.forms(t)} for t in found])
        return
    if not found:
        fail(f"no glossary term for {word!r}")
    for term in found:
        forms = " · ".join(f"{k}: {v}" for k, v in glossary.forms(term).items())
        click.echo(f"{term.id} ({term.category})\n  {forms}\n  {term.definition}")


@terms.command()
@click.argument("text")
@json_option
def check(text: str, as_json: bool) -> None:
    """Flag phrases to avoid in TEXT (or - for stdin) and suggest the preferred wording.
    Exits 1 when something was flagged."""
    if text == "-":
        text = sys.stdin.read()
    glossary = Glossary(_library(quiet=as_json).terms.values())
    hits = glossary.check(text)
    if as_json:
        print_json(
            [
                {
                    "term": h.term_id,
                    "locale": h.locale,
                    "start": h.start,
                    "end": h.end,
                    "text": h.text,
                    "preferred": h.preferred,
                }
                for h in hits
            ]
        )
    else:
        for h in hits:
            instead = f"; prefer: {h.preferred}" if h.preferred else ""
            click.echo(f"{h.start}-{h.end}: avoid {h.text!r} ({h.term_id}, {h.locale}){instead}")
    if hits:
        raise SystemExit(1)
