"""Where keys sit in a TOML file, since `tomllib` gives values but no positions.

A small line scanner, good enough for the macro and glossary files: it knows table headers
(`[body]`, `[[actions]]`, `[term.avoid]`), `key = value` lines and multi-line strings (whose
lines it skips, so a body line that looks like `a = b` is not taken for a key).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^(\s*)("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=\s*""")


@dataclass
class Locations:
    """(table, key) -> (line, col), 1-based. Array tables are named `actions[0]`, `term[2]`."""

    keys: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)
    # (table, key) -> where the string value's text starts (after a multi-line opener).
    values: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def key(self, table: str, key: str) -> tuple[int, int]:
        """The key's position, else its table's, else the top of the file."""
        return self.keys.get((table, key)) or self.tables.get(table) or (1, 1)

    def table(self, table: str) -> tuple[int, int]:
        return self.tables.get(table) or (1, 1)


def locate(source: str) -> Locations:
    found = Locations()
    table = ""
    counts: dict[str, int] = {}
    closing: str | None = None  # the multi-line string delimiter we are inside, if any
    for number, line in enumerate(source.splitlines(), start=1):
        if closing is not None:
            if closing in line:
                closing = None
            continue
        if header := _HEADER.match(line):
            name = header.group(2).replace('"', "").replace(" ", "")
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = f"{name}[{counts[name]}]"
            else:
                table = _under_array(name, counts)
            found.tables.setdefault(table, (number, header.start(2) + 1))
            continue
        key = _KEY.match(line)
        if key is None:
            continue
        name = key.group(2).strip("\"'")
        found.keys.setdefault((table, name), (number, len(key.group(1)) + 1))
        rest = line[key.end() :]
        for delimiter in ('"""', "'''"):
            if rest.startswith(delimiter):
                after = rest[3:]
                if delimiter in after:  # opened and closed on one line
                    found.values[(table, name)] = (number, key.end() + 4)
                elif after.strip():
                    found.values[(table, name)] = (number, key.end() + 4)
                    closing = delimiter
                else:  # TOML drops a newline right after the opener
                    found.values[(table, name)] = (number + 1, 1)
                    closing = delimiter
                break
        else:
            if rest.startswith(('"', "'")):
                found.values[(table, name)] = (number, key.end() + 2)
    return found


def _under_array(name: str, counts: dict[str, int]) -> str:
    """`term.avoid` after the third `[[term]]` is the table `term[2].avoid`."""
    for array, index in counts.items():
        if name.startswith(array + "."):
            return f"{array}[{index}]{name[len(array) :]}"
    return name
