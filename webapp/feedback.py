"""Durable 👍/👎 feedback on answers, in SQLite beside the index (never served over HTTP)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Literal

Rating = Literal["up", "down"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    question TEXT NOT NULL,
    history TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    mode TEXT NOT NULL DEFAULT '',
    refused INTEGER NOT NULL DEFAULT 0
)
"""
MAX_COMMENT_CHARS = 2000


class FeedbackStore:
    """One connection shared by the server's threads, serialized by a lock (writes are rare and tiny)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a rating acknowledged in the UI survives a power cut
        self._db.execute("PRAGMA synchronous=FULL")
        with self._db:
            self._db.execute(_SCHEMA)

    def add(
        self,
        *,
        question: str,
        history: list[str],
        answer: dict[str, Any],
        rating: Rating,
        comment: str = "",
    ) -> int:
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        row = (
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            question,
            json.dumps(history, ensure_ascii=False),
            str(answer.get("answer", "")),
            json.dumps(answer.get("citations", []), ensure_ascii=False),
            rating,
            (comment or "").strip()[:MAX_COMMENT_CHARS],
            str(answer.get("mode", "")),
            int(bool(answer.get("refused"))),
        )
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT INTO feedback (time, question, history, answer, citations, rating, comment, mode, refused)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cur.lastrowid or 0)

    def rows(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute(
                "SELECT id, time, question, history, answer, citations, rating, comment, mode, refused"
                " FROM feedback ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def close(self) -> None:
        with self._lock:
            self._db.close()
