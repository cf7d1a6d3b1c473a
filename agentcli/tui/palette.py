"""Command palette providers (ctrl+p): views, macros, tickets by id, and the console's commands.

Each provider matches with Textual's fuzzy matcher over data the app already holds in memory
(views, the macro index, the binding list), so a keystroke in the palette never touches the
store; "ticket by id" only parses the number and opens it (the ticket screen reads it in a
worker and says when it does not exist).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from agentcli.tui.keymap import ACTION_BINDINGS, APP_BINDINGS, INBOX_BINDINGS, TICKET_BINDINGS

if TYPE_CHECKING:
    from agentcli.tui.app import ConsoleApp
    from agentcli.tui.screens.inbox import InboxScreen

MACROS_SHOWN = 40


class _ConsoleProvider(Provider):
    @property
    def console(self) -> ConsoleApp:
        return self.app  # type: ignore[return-value]

    def inbox(self) -> InboxScreen | None:
        from agentcli.tui.screens.inbox import InboxScreen

        return next((s for s in self.app.screen_stack if isinstance(s, InboxScreen)), None)


class ViewsProvider(_ConsoleProvider):
    """Sidebar views (built-in, queues, saved): switch the inbox to one."""

    def _views(self) -> list[tuple[int, str]]:
        inbox = self.inbox()
        if inbox is None:
            return []
        tr = self.console.tr
        return [(i, tr.view_name(name)) for i, (name, _q) in enumerate(inbox.views)]

    def _go(self, index: int) -> None:
        inbox = self.inbox()
        if inbox is None:
            return
        while self.app.screen is not inbox and len(self.app.screen_stack) > 1:
            self.app.pop_screen()
        inbox.select_view(index)
        inbox.focus_default()

    async def discover(self) -> Hits:
        label = self.console.tr("palette.view")
        for index, name in self._views():
            yield DiscoveryHit(f"{label}: {name}", partial(self._go, index), help=None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        label = self.console.tr("palette.view")
        for index, name in self._views():
            text = f"{label}: {name}"
            if (score := matcher.match(text)) > 0:
                yield Hit(score, matcher.highlight(text), partial(self._go, index), text=text)


class TicketsProvider(_ConsoleProvider):
    """`#123` or `123`: open that ticket."""

    async def search(self, query: str) -> Hits:
        digits = query.strip().lstrip("#")
        if not digits.isdigit() or len(digits) > 12:
            return
        ticket_id = int(digits)
        text = f"{self.console.tr('palette.ticket')} #{ticket_id}"
        yield Hit(100.0, text, partial(self.console.open_ticket, ticket_id), text=text)


class MacrosProvider(_ConsoleProvider):
    """Macros by title, id or shortcut: open the open ticket's (or the cursor's) composer on it."""

    def _entries(self) -> list[tuple[str, str]]:
        library = self.console.library
        if library is None:
            return []
        locale = {"zh-CN": "zh-CN", "uk": "uk"}.get(self.console.tr.language, "en")
        out = []
        for macro in library.visible():
            shortcut = f" {macro.shortcut}" if macro.shortcut else ""
            out.append((macro.id, f"{macro.title_for(locale)} · {macro.id}{shortcut}"))
        return out

    def _apply(self, macro_id: str) -> None:
        from agentcli.tui.screens.base import ConsoleScreen

        screen = self.app.screen
        if isinstance(screen, ConsoleScreen):
            self.console.run_command_line(f"macro {macro_id}", screen)

    async def discover(self) -> Hits:
        for macro_id, text in self._entries()[:MACROS_SHOWN]:
            yield DiscoveryHit(text, partial(self._apply, macro_id), help=None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for macro_id, text in self._entries():
            if (score := matcher.match(text)) > 0:
                yield Hit(score, matcher.highlight(text), partial(self._apply, macro_id), text=text)


class CommandsProvider(_ConsoleProvider):
    """Every bound action (by its translated description) and any `:` command typed here."""

    def _commands(self) -> list[tuple[str, Callable[[], object]]]:
        from agentcli.tui.screens.base import ConsoleScreen

        app, tr = self.console, self.console.tr
        # The palette is a screen of its own: the actions are those of the screen beneath it.
        consoles = [s for s in app.screen_stack if isinstance(s, ConsoleScreen)]
        screen = consoles[-1] if consoles else app.screen
        out: list[tuple[str, Callable[[], object]]] = []
        groups = [APP_BINDINGS, ACTION_BINDINGS, INBOX_BINDINGS, TICKET_BINDINGS]
        for group in groups:
            for binding in group:
                if binding.id is None:
                    continue
                target = screen if group is not APP_BINDINGS else app
                if not hasattr(target, f"action_{binding.action.split('(')[0]}"):
                    continue  # not an action of this screen (e.g. ticket keys in the inbox)
                label = f"{tr('key.' + binding.id)}  [{binding.key.split(',')[0]}]"
                out.append((label, partial(target.run_action, binding.action)))
        return out

    def _run_line(self, text: str) -> None:
        from agentcli.tui.screens.base import ConsoleScreen

        screen = self.app.screen
        if isinstance(screen, ConsoleScreen):
            self.console.run_command_line(text, screen)

    async def discover(self) -> Hits:
        label = self.console.tr("palette.command")
        for text, run in self._commands():
            yield DiscoveryHit(f"{label}: {text}", run)

    async def search(self, query: str) -> Hits:
        if query.startswith(":") and len(query) > 1:
            line = query[1:].strip()
            yield Hit(100.0, f":{line}", partial(self._run_line, line), text=f":{line}")
        matcher = self.matcher(query)
        label = self.console.tr("palette.command")
        for text, run in self._commands():
            shown = f"{label}: {text}"
            if (score := matcher.match(shown)) > 0:
                yield Hit(score, matcher.highlight(shown), run, text=shown)


PROVIDERS = (ViewsProvider, TicketsProvider, MacrosProvider, CommandsProvider)
