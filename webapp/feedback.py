"""Durable 👍/👎 feedback on answers, in SQLite beside the index (never served over HTTP).

Each row keeps the question, the earlier questions, the answer, the cited clauses (with their ids,
so staff can open the exact clause) and the optional reason. Visitors type phone and ID numbers
into questions and reasons: every text is masked before it is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Literal

from core.privacy import mask as _mask

Rating = Literal["up", "down"]


def mask(text: str) -> str:
    """Masked, and storable: a lone surrogate (no one types it) becomes U+FFFD instead of failing the write."""
    return _mask(text).encode("utf-8", "replace").decode("utf-8")

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
    refused INTEGER NOT NULL DEFAULT 0,
    clause_ids TEXT NOT NULL DEFAULT '[]'
)
"""
# columns added after the first release: (name, declaration) added to older databases on open
_ADDED_COLUMNS = (("clause_ids", "TEXT NOT NULL DEFAULT '[]'"),)
COLUMNS = ("id", "time", "question", "history", "answer", "citations", "rating", "comment", "mode", "refused",
           "clause_ids")
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
            have = {r[1] for r in self._db.execute("PRAGMA table_info(feedback)")}
            for name, decl in _ADDED_COLUMNS:
                if name not in have:
                    self._db.execute(f"ALTER TABLE feedback ADD COLUMN {name} {decl}")

    def add(
        self,
        *,
        question: str,
        history: list[str],
        answer: dict[str, Any],
        rating: Rating,
        comment: str = "",
        clause_ids: list[str] | None = None,
    ) -> int:
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
        cites = [{k: mask(v) if isinstance(v, str) else v for k, v in c.items()} for c in answer.get("citations", [])]
        row = (
            dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            mask(question),
            json.dumps([mask(h) for h in history], ensure_ascii=False),
            mask(str(answer.get("answer", ""))),
            json.dumps(cites, ensure_ascii=False),
            rating,
            mask((comment or "").strip()[:MAX_COMMENT_CHARS]),
            str(answer.get("mode", "")),
            int(bool(answer.get("refused"))),
            json.dumps(list(clause_ids or []), ensure_ascii=False),
        )
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT INTO feedback (time, question, history, answer, citations, rating, comment, mode, refused,"
                " clause_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cur.lastrowid or 0)

    def set_comment(self, feedback_id: int, comment: str) -> bool:
        """Attach the reason a visitor typed after rating; False if that row does not exist."""
        with self._lock, self._db:
            cur = self._db.execute("UPDATE feedback SET comment = ? WHERE id = ?",
                                   (mask((comment or "").strip()[:MAX_COMMENT_CHARS]), feedback_id))
            return cur.rowcount == 1

    def rows(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest rows first; history, citations and clause_ids decoded from JSON."""
        with self._lock:
            cur = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id DESC LIMIT ?", (limit,))
            rows = [dict(zip(COLUMNS, r, strict=True)) for r in cur.fetchall()]
        for r in rows:
            for key in ("history", "citations", "clause_ids"):
                r[key] = json.loads(r[key])
        return rows

    def close(self) -> None:
        with self._lock:
            self._db.close()
