"""Errors that cross floors. Each carries a message meant for the person who caused it."""

from __future__ import annotations


class LoadError(Exception):
    """A file a user gave us cannot be read; str(e) is the reason shown to them (Chinese and English)."""


class IndexLocked(RuntimeError):
    """Another ingest holds the index's writer lock."""


class BackendUnavailable(RuntimeError):
    """A server the dense side needs (Chroma, an embeddings endpoint) cannot be reached.

    str(e) is one line naming the server (host and port or URL) and the reason, fit for a log line or an
    operator's terminal; the index answers from BM25 alone until the server is back.
    """


class ConfigError(ValueError):
    """A setting that cannot work; str(e) names the setting and how to fix it."""
