"""The macro picker: fuzzy search, the rendered preview for this ticket, field changes, and a
form for missing variables; it returns the text to insert and the macro (with its variables)
whose actions are queued on send."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from agentcli.domain.inert import inert
from agentcli.macros.glossary import Glossary
from agentcli.macros.loader import Library
from agentcli.macros.model import Macro, MacroError
from agentcli.macros.picker import MacroIndex
from agentcli.macros.preview import Preview, preview
from agentcli.macros.render import Renderer
from agentcli.macros.suggest import suggest
from agentcli.tui.i18n import Translator
from agentcli.tui.keyorder import OrderedInput

VAR_PREFIX = "vars."
RESULTS = 30


@dataclass(frozen=True, slots=True)
class MacroChoice:
    macro_id: str
    vars: dict[str, str]
    text: str
    # Keys typed after the enter that chose it: the composer's, once the macro is in.
    typed_after: list[events.Key] = dataclasses.field(default_factory=list)


@dataclass
class PickerContext:
    """Everything the picker needs about the ticket, read once by the ticket screen."""

    library: Library
    index: MacroIndex
    renderer: Renderer
    glossary: Glossary
    context: dict[str, Any]
    locale: str
    last_message: str
    channel: str | None
    # macro id -> similar tickets it was used on (read by the ticket screen's worker)
    usage: Mapping[str, int] = dataclasses.field(default_factory=dict)


class MacroPicker(ModalScreen[MacroChoice | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel", id="picker.cancel"),
        Binding("down", "move(1)", "down", id="picker.down", show=False),
        Binding("up", "move(-1)", "up", id="picker.up", show=False),
    ]
    DEFAULT_CSS = """
    MacroPicker { align: center middle; }
    MacroPicker > Vertical { width: 92%; height: 88%; border: thick $accent; background: $surface; }
    MacroPicker #picker-results { width: 40%; height: 1fr; }
    MacroPicker #picker-preview-scroll { width: 60%; height: 1fr; padding: 0 1; }
    MacroPicker #picker-vars { height: auto; }
    MacroPicker .var-input { height: 3; }
    """

    def __init__(self, tr: Translator, ctx: PickerContext, query: str = "") -> None:
        super().__init__()
        self.tr = tr
        self.ctx = ctx
        self.initial = query
        self.shown: list[Macro] = []
        self.vars: dict[str, str] = {}
        self.current: Preview | None = None
        self._suggested: set[str] = set()
        self._ranked: list[Macro] = []  # the suggestions, best first

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.tr("macro.title"), style="bold"))
            yield OrderedInput(
                placeholder=self.tr("macro.search"), id="picker-search", hold_after_submit=True
            )
            with Horizontal():
                yield OptionList(id="picker-results")
                with VerticalScroll(id="picker-preview-scroll"):
                    yield Static("", id="picker-preview")
            yield Vertical(id="picker-vars")

    def on_mount(self) -> None:
        ctx = self.ctx
        found = suggest(
            ctx.library.visible(),
            ctx.context,
            ctx.last_message,
            ctx.glossary,
            ctx.locale,
            usage=ctx.usage,
        )
        self._ranked = [s.macro for s in found]
        self._suggested = {macro.id for macro in self._ranked}
        search = self.query_one("#picker-search", Input)
        search.value = self.initial
        self._search(self.initial)
        # set_focus, not focus(): focus() is applied later, and keys typed right after the
        # picker key would reach the screen, not the search box.
        self.set_focus(search)

    @property
    def results(self) -> OptionList:
        return self.query_one("#picker-results", OptionList)

    def _search(self, text: str) -> None:
        ctx = self.ctx
        exact = ctx.library.macros.get(text.strip())
        hits = ctx.index.search(text, RESULTS)
        if not text.strip():
            # Suggestions first, best first, then the library in order.
            hits = self._ranked + [m for m in hits if m.id not in self._suggested]
        if exact is not None:
            hits = [exact] + [m for m in hits if m.id != exact.id]
        self.shown = hits[:RESULTS]
        self.results.clear_options()
        for macro in self.shown:
            label = Text(inert(macro.title_for(self.tr.language)))
            if macro.shortcut:
                label.append(f"  {macro.shortcut}", style="dim")
            if macro.id in self._suggested:
                label.append(f"  ★ {self.tr('macro.suggested')}", style="green")
            self.results.add_option(Option(label, id=macro.id))
        if self.shown:
            self.results.highlighted = 0
            self._preview(self.shown[0])
        else:
            self.query_one("#picker-preview", Static).update(self.tr("macro.none"))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "picker-search":
            event.stop()
            self.vars = {}
            self._clear_vars()
            self._search(event.value)

    def action_move(self, step: int) -> None:
        if not self.shown:
            return
        index = ((self.results.highlighted or 0) + step) % len(self.shown)
        self.results.highlighted = index
        self._preview(self.shown[index])

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_index < len(self.shown):
            self._preview(self.shown[event.option_index])

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        await self._choose(self.query_one("#picker-search", OrderedInput))

    def _macro(self) -> Macro | None:
        index = self.results.highlighted
        return self.shown[index] if index is not None and index < len(self.shown) else None

    def _preview(self, macro: Macro) -> Preview | None:
        ctx = self.ctx
        view = self.query_one("#picker-preview", Static)
        try:
            result = preview(macro, ctx.context, ctx.locale, self.vars, renderer=ctx.renderer)
        except MacroError as error:
            view.update(Text(f"{self.tr('macro.errors')}: {error}", style="red"))
            self.current = None
            return None
        self.current = result
        out = Text()
        out.append(self.tr("macro.preview") + f" ({result.locale})\n", style="bold")
        if result.text is not None:
            out.append(inert(result.text))
        if result.missing_vars:
            out.append(self.tr("macro.missing") + ": ", style="bold yellow")
            out.append(", ".join(result.missing_vars), style="yellow")
        if result.field_changes:
            out.append("\n\n" + self.tr("macro.changes") + "\n", style="bold")
            for change in result.field_changes:
                out.append(f"  {change.field}: ", style="cyan")
                out.append(inert(f"{change.before} → {change.after}") + "\n")
        if result.errors:
            out.append(
                "\n" + self.tr("macro.errors") + ": " + "; ".join(result.errors), style="red"
            )
        view.update(out)
        return result

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        source = event.input
        assert isinstance(source, OrderedInput)
        if source.id == "picker-search":
            await self._choose(source)
            return
        # A variable field: move to the next empty one, or apply when all are filled.
        name = str(source.name)
        self.vars[name] = event.value
        for field in self.query(".var-input").results(Input):
            if not field.value.strip():
                self.set_focus(field)
                source.release_keys(field)
                return
        await self._choose(source)

    async def _choose(self, source: OrderedInput) -> None:
        """Apply the highlighted macro, or ask for what it is missing. Keys typed after the
        enter (held by `source`) go where the user is taken: the next field, the composer,
        or back to `source` when nothing moved."""
        macro = self._macro()
        result = None
        if macro is not None:
            for field in self.query(".var-input").results(Input):
                self.vars[str(field.name)] = field.value
            result = self._preview(macro)
        if macro is None or result is None or result.errors:
            source.release_keys(source)
            return
        if result.missing_vars:
            source.release_keys(await self._ask(result.missing_vars) or source)
            return
        choice = MacroChoice(macro.id, dict(self.vars), result.text or "", source.take_keys())
        self.dismiss(choice)

    async def _ask(self, missing: tuple[str, ...]) -> Input | None:
        """Show an input for every missing `vars.*` (other gaps cannot be typed in); the
        field now focused."""
        box = self.query_one("#picker-vars", Vertical)
        have = {str(field.name) for field in box.query(Input)}
        fields = []
        for name in missing:
            if not name.startswith(VAR_PREFIX):
                continue
            key = name.removeprefix(VAR_PREFIX)
            if key in have:
                continue
            field = OrderedInput(
                placeholder=key,
                name=key,
                classes="var-input",
                id=f"var-{key}",
                hold_after_submit=True,
            )
            field.border_title = key
            fields.append(field)
        if fields:
            await box.mount(*fields)
            self.set_focus(fields[0])
            return fields[0]
        empty = [f for f in box.query(Input) if not f.value.strip()]
        if empty:
            self.set_focus(empty[0])
            return empty[0]
        return None

    def _clear_vars(self) -> None:
        self.query_one("#picker-vars", Vertical).remove_children()

    def action_cancel(self) -> None:
        self.dismiss(None)
