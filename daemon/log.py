"""Logging: structlog, JSON lines in production, readable in a terminal.

Run context (run id, kind, attempt) is bound with contextvars so every line of a run's work
carries it; solver processes configure logging again in their initializer, since contextvars
do not cross processes.

Every line, structlog's and stdlib's (psycopg, psycopg_pool, alembic, warnings) alike, goes
through one formatter, and that is where nothing secret or hostile gets past: the database
password (``hide``) is scrubbed from every value and from the rendered line, each value is
bounded, and in a terminal control characters are escaped.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import structlog

from daemon.text import bounded, printable

# A logged string value (a run's error, a server message...) is at most this long, a list or
# mapping at most this many items, and a whole line at most LINE_LIMIT characters.
VALUE_LIMIT = 4000
ITEMS_LIMIT = 100
LINE_LIMIT = 32000

# Every form of the database password, longest first (daemon.db.password_forms).
_hidden: list[str] = []


def hide(url: str) -> None:
    """From now on, scrub the password of the database URL ``url`` from every log line."""
    if not url:
        return
    from daemon.db import password_forms

    _hidden[:] = sorted({*_hidden, *password_forms(url)}, key=len, reverse=True)


def scrub(text: str) -> str:
    """``text`` without the hidden password (see ``hide``)."""
    for form in _hidden:
        text = text.replace(form, "***")
    return text


def _clean(value: Any, terminal: bool) -> Any:
    """A logged value with the password scrubbed and its size bounded; in a terminal, with
    its control characters escaped. Objects become their repr, as the renderers show them."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        items = list(value.items())
        cleaned = {str(k): _clean(v, terminal) for k, v in items[:ITEMS_LIMIT]}
        if len(items) > ITEMS_LIMIT:
            cleaned["…"] = f"{len(items) - ITEMS_LIMIT:,} more items"
        return cleaned
    if isinstance(value, list | tuple | set | frozenset):
        values = list(value)
        cleaned_values = [_clean(v, terminal) for v in values[:ITEMS_LIMIT]]
        if len(values) > ITEMS_LIMIT:
            cleaned_values.append(f"… {len(values) - ITEMS_LIMIT:,} more items")
        return cleaned_values
    text = bounded(scrub(value if isinstance(value, str) else repr(value)), VALUE_LIMIT)
    return printable(text) if terminal else text


def _sanitiser(terminal: bool) -> Any:
    def sanitise(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        # exc_info is rendered by the console renderer; render_line scrubs what it prints.
        return {k: v if k == "exc_info" else _clean(v, terminal) for k, v in event.items()}

    return sanitise


def _line_renderer(renderer: Any, json_lines: bool) -> Any:
    """``renderer``, then the password scrubbed from the whole line (the console renderer
    formats tracebacks itself), and a line past LINE_LIMIT cut down to its short fields."""

    def render_line(logger: Any, name: str, event: dict[str, Any]) -> str:
        line = scrub(renderer(logger, name, dict(event)))
        if not json_lines:  # tracebacks quote server messages and user input: escape per line
            line = "\n".join(printable(part) for part in line.split("\n"))
        if len(line) <= LINE_LIMIT:
            return line
        if not json_lines:
            return bounded(line, LINE_LIMIT)
        short = {k: bounded(v, 500) if isinstance(v, str) else v for k, v in event.items() if _is_scalar(v)}
        if isinstance(event.get("exception"), list) and event["exception"]:
            last = event["exception"][-1]
            if isinstance(last, dict):
                short["exception"] = bounded(f"{last.get('exc_type')}: {last.get('exc_value')}", 500)
        short["line_truncated_from"] = len(line)
        return scrub(json.dumps(short, default=repr))

    return render_line


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool | int | float)


def configure(fmt: str = "auto", level: str = "info", *, database_url: str = "") -> None:
    """Log to stderr; ``database_url``'s password never appears in a line (see ``hide``)."""
    hide(database_url)
    json_lines = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Plain tracebacks in a terminal too: rich's and better-exceptions' show frame locals. No
    # colours: every control character of a console line is escaped (tracebacks quote server
    # messages and user input), and colour codes would be escaped with them.
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    tail: list[Any] = [_dict_tracebacks()] if json_lines else []
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    # psycopg, psycopg_pool and alembic log through stdlib; render them the same way.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *tail,
                _sanitiser(terminal=not json_lines),
                _line_renderer(renderer, json_lines),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic logs a line per plugin it loads, at info, whenever its scripts are read (each
    # command checks the schema revision): noise before the one line a failure prints.
    logging.getLogger("alembic.runtime.plugins").setLevel("WARNING")
    # Python warnings (numpy's overflow on a huge preference_power...) as log lines too: printed
    # raw, they would be the only lines of a JSON log that are not JSON.
    logging.captureWarnings(True)


def _dict_tracebacks() -> structlog.processors.ExceptionRenderer:
    """Tracebacks as JSON, without frame locals.

    ``structlog.processors.dict_tracebacks`` shows every frame's locals, and those hold run data
    (doctors' names) and secrets (a database URL with its password): logs must not carry them.
    """
    return structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False))


def get(name: str = "receptord") -> Any:
    return structlog.get_logger(name)
