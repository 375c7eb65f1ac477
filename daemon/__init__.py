"""receptord: a PostgreSQL-queued solver daemon for medical workforce allocation."""

__version__ = "0.1.0"
