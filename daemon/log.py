"""Logging: structlog, JSON lines in production, readable in a terminal.

Run context (run id, kind, attempt) is bound with contextvars so every line of a run's work
carries it; solver processes configure logging again in their initializer, since contextvars
do not cross processes.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog


def configure(fmt: str = "auto", level: str = "info") -> None:
    json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    tail: list[Any] = [_dict_tracebacks()] if json else []
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
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
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
