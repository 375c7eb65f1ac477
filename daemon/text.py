"""Text that came from outside (run rows, config keys, constraint and position names, server
messages) made safe to show: no control characters that drive a terminal, and a bounded size.

``printable`` is applied to whatever ``receptord status`` and the one-run commands print and
to every ``last_error`` the daemon writes; ``bounded`` caps a message, ``listing`` names the
first few offenders of a list and counts the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# A run's last_error (and so the run_events row that carries it) is at most this long.
LAST_ERROR_LIMIT = 2000
# How many offenders a message names, and how much of each, before "and N more".
LISTED = 5
NAME_WIDTH = 80


def _escape(code: int) -> str:
    named = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}
    if code in named:
        return named[code]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


# C0 (tabs and newlines included: a message is one line), DEL, C1, the line and paragraph
# separators (new lines to some terminals and viewers), and the bidirectional overrides and
# isolates that make a terminal show text in another order than it is.
_CONTROL = [
    *range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
]  # fmt: skip
_TABLE = {code: _escape(code) for code in _CONTROL}


def printable(s: str) -> str:
    """``s`` with every control character replaced by its escape (``\\x1b``, ``\\n``...);
    plain spaces and all other text are kept."""
    return s.translate(_TABLE)


def bounded(s: str, limit: int = LAST_ERROR_LIMIT) -> str:
    """``s`` cut to at most ``limit`` characters, saying how many were left off."""
    if len(s) <= limit:
        return s
    head = max(0, limit - 32)
    return f"{s[:head]}… ({len(s) - head:,} more characters)"


def listing(
    items: Iterable[str],
    *,
    first: int = LISTED,
    width: int = NAME_WIDTH,
    show: Callable[[str], str] = str,
) -> str:
    """``a, b, c`` naming at most ``first`` items, each cut to ``width`` characters and shown
    with ``show`` (``repr`` quotes them), then ``and N more``."""
    items = list(items)
    named = ", ".join(show(bounded(item, width)) for item in items[:first])
    rest = len(items) - first
    return f"{named} and {rest:,} more" if rest > 0 else named
