"""What the web app holds for its lifetime: settings, the index, the bot, feedback, the export dir.

Every UI handler and API route goes through `AppState`, so the rules that matter (question limits,
index reloads, upload checks) live in one place instead of once per front end.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.chat import PolicyBot
from bot.llm import LLMAnswerer
from core.errors import IndexLocked
from core.privacy import for_log
from core.records import Answer, Clause, PolicyDocument, ScoredClause
from core.retrieval import Filters, LiveRetriever
from core.settings import Settings
from indexing.service import Indexer
from webapp.feedback import FeedbackStore

log = logging.getLogger(__name__)

UPLOAD_SUFFIXES = (".txt", ".docx", ".doc", ".wps", ".pdf", ".ofd", ".xlsx", ".xls", ".html", ".md", ".png", ".jpg")
EXPORT_MAX_AGE_S = 3600  # exported CSVs are for immediate download; older ones are deleted
LIST_LIMIT = 300  # rows shown when staff filter without a search word


class QuestionError(ValueError):
    """A question the app will not send to the bot; str(e) is the message shown to the user."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class UploadError(ValueError):
    """An upload the app refuses; str(e) is shown to staff as is."""


class ReadWriteLock:
    """Many readers at once; a writer waits for them and blocks new ones.

    PolicyIndex.reload() replaces several attributes one after another, so a search running during a
    reload could see clauses of one generation and BM25 arrays of another. Not reentrant: a thread
    holding the read side must not ask for it again (a waiting writer would block it).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@dataclass
class UploadResult:
    message: str
    doc_id: str | None = None
    ok: bool = True


def readable(text: str) -> bool:
    """False for text that is not valid Unicode (a lone surrogate): it cannot be logged, stored or
    shown, and no one types it — it comes from a broken client or a probe."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def safe_filename(name: str) -> str:
    """A file name that cannot climb out of the uploads dir or hide as a dotfile."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[^\w.\-（）()【】\[\]“”]+", "_", base).strip("._ ")
    return base[:120] or "upload"


class AppState:
    """Loaded once at startup (models warmed), shared by every request."""

    def __init__(self, settings: Settings, *, runtime_dir: Path, index: LiveRetriever, bot: PolicyBot,
                 indexer: Indexer, upload_inbox: Path, llm: LLMAnswerer | None = None) -> None:
        self.settings = settings
        # the folder the upload route writes into: the only place an upload is taken from
        self.upload_inbox = upload_inbox.resolve()
        self.llm = llm  # the generative model the bot uses, if any: reported by /healthz, announced on the page
        self.index_dir = Path(settings.index_dir).resolve()
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.upload_dir = self.index_dir / "uploads"
        self.upload_dir.mkdir(exist_ok=True)
        self.export_dir = runtime_dir / "exports"
        self.export_dir.mkdir(parents=True, exist_ok=True)
        self.index = index
        self.bot = bot
        self.indexer = indexer
        self.feedback = FeedbackStore(self.index_dir / "feedback.sqlite")
        self.lock = ReadWriteLock()
        self._ingest_lock = threading.Lock()
        t = time.perf_counter()
        self.bot.warm_up()
        log.info("bot ready in %.1f s: %d documents, %d clauses from %s", time.perf_counter() - t,
                 len(self.index.docs), len(self.index.clauses), self.index_dir)

    # ---- index access ------------------------------------------------------------------------
    def ensure_current(self) -> None:
        """Pick up an ingest made by another process (`policybot ingest`) since the last request."""
        if self.index.is_current():
            return
        with self.lock.write():
            if not self.index.is_current():
                self.index.reload()
                log.info("index reloaded: generation %s", self.index.generation)

    @contextmanager
    def reading(self) -> Iterator[LiveRetriever]:
        self.ensure_current()
        with self.lock.read():
            yield self.index

    def reload(self) -> None:
        with self.lock.write():
            self.index.reload()

    # ---- questions ---------------------------------------------------------------------------
    def check_question(self, question: str | None) -> str:
        q = (question or "").strip()
        if not q:
            raise QuestionError("请输入问题。", status_code=422)
        if not readable(q):
            raise QuestionError("问题中含有无法识别的字符，请重新输入。", status_code=400)
        limit = self.settings.max_question_chars
        if len(q) > limit:
            raise QuestionError(
                f"问题过长（{len(q)} 字），请精简到 {limit} 字以内后再提问。", status_code=413
            )
        return q

    def ask(self, question: str, history: list[str] | None = None,
            stream: Callable[[str], None] | None = None) -> Answer:
        q = self.check_question(question)
        hist = [h.strip()[: self.settings.max_question_chars] for h in (history or []) if h and h.strip()][-10:]
        if not all(readable(h) for h in hist):
            raise QuestionError("对话记录中含有无法识别的字符，请开始新对话。", status_code=400)
        t = time.perf_counter()
        with self.reading():
            ans = self.bot.ask(q, history=hist, stream=stream)
        log.info("ask %r (history %d) → %s%s in %.0f ms", for_log(q), len(hist), ans.intent,
                 " refused" if ans.refused else "", (time.perf_counter() - t) * 1000)
        return ans

    # ---- staff lookup ------------------------------------------------------------------------
    def regions(self) -> list[str]:
        with self.reading() as idx:
            return sorted({d.region for d in idx.docs.values() if d.region})

    def deadline_years(self) -> list[int]:
        with self.reading() as idx:
            return sorted({int(c.deadline.date[:4]) for c in idx.clauses if c.deadline and c.deadline.date})

    def documents(self) -> list[PolicyDocument]:
        with self.reading() as idx:
            return sorted(idx.docs.values(), key=lambda d: (d.region or "", d.issued_on or "", d.title))

    def catalog(self) -> list[dict[str, Any]]:
        return [d.catalog_json() for d in self.documents()]

    def resolve_docs(self, doc: str | None) -> list[str] | None:
        """doc_id, 文号, file name or part of the title → doc ids (as `policybot search --doc`)."""
        if not doc:
            return None
        with self.reading() as idx:
            return [
                d.doc_id for d in idx.docs.values()
                if doc in (d.doc_id, d.doc_number, d.source_file) or doc in d.title
            ]

    def resolve_regions(self, region: str | None) -> list[str] | None:
        if not region:
            return None
        known = self.regions()
        if region in known:  # a stored name (某某市某某区) means that region alone
            return [region]
        return sorted(r for r in known if region in r or r in region) or [region]

    def search(self, query: str, *, filters: Filters | None = None, k: int = 20) -> list[ScoredClause]:
        """Ranked clauses; with no search word but some filter, every matching clause in reading order."""
        q = (query or "").strip()[: self.settings.max_question_chars]
        with self.reading() as idx:
            if q:
                hits = idx.search(q, k=k, filters=filters).hits
            elif filters is not None and not filters.is_empty():
                chosen = idx.matching(filters)
                chosen.sort(key=lambda c: (idx.docs[c.doc_id].title, c.seq))
                hits = [ScoredClause(c, 0.0, idx.docs.get(c.doc_id)) for c in chosen[:LIST_LIMIT]]
            else:
                hits = []
        log.info("search %r → %d hits", for_log(q), len(hits))
        return hits

    def lookup(self, query: str, terms: list[str], *, filters: Filters, k: int) -> tuple[list[ScoredClause], int]:
        """Staff lookup: every clause that passes all the filters and contains a search word, best first.

        The set is decided clause by clause (filters AND a word match), so adding a filter can only
        take rows away; the hybrid ranking only orders it. Clauses the ranking did not reach follow,
        those with more matched words first. Returns the first k and how many there are in all.
        """
        q = (query or "").strip()[: self.settings.max_question_chars]
        words = [t.lower() for t in terms if t.strip()]
        with self.reading() as idx:
            ranked = idx.search(q, k=LIST_LIMIT, filters=filters).hits if q else []
            rank = {h.clause.clause_id: i for i, h in enumerate(ranked)}
            pool = idx.matching(filters) if not filters.is_empty() else list(idx.clauses)
            found = []
            for c in pool:
                text = c.text.lower()
                hits = sum(text.count(w) for w in words)
                if hits:
                    found.append((rank.get(c.clause_id, len(rank)), -hits, c))
            found.sort(key=lambda x: (x[0], x[1]))
            out = [ScoredClause(c, 0.0, idx.docs.get(c.doc_id)) for _, _, c in found[:k]]
        log.info("lookup %r → %d of %d matching clauses", for_log(q), len(out), len(found))
        return out, len(found)

    def clause_with_doc(self, clause_id: str) -> tuple[Clause, PolicyDocument] | None:
        with self.reading() as idx:
            c = idx.clause(clause_id)
            d = idx.docs.get(c.doc_id) if c else None
            return (c, d) if c and d else None

    def is_overdue(self, c: Clause) -> bool:
        dl = c.deadline
        return bool(dl and dl.date and not dl.recurring
                    and dt.date.fromisoformat(dl.date) < self.settings.today_date())

    def tasks(self, *, region: str | None = None, doc_id: str | None = None,
              overdue_only: bool = False) -> list[tuple[Clause, PolicyDocument, bool]]:
        """Every task_row clause in reading order, each with its document and whether it is overdue."""
        out: list[tuple[Clause, PolicyDocument, bool]] = []
        with self.reading() as idx:
            for c in idx.clauses:
                d = idx.docs.get(c.doc_id)
                if c.kind != "task_row" or d is None:
                    continue
                if (region and d.region != region) or (doc_id and d.doc_id != doc_id):
                    continue
                late = self.is_overdue(c)
                if overdue_only and not late:
                    continue
                out.append((c, d, late))
        out.sort(key=lambda x: (x[1].region or "", x[1].title, x[0].seq))
        return out

    # ---- CSV export --------------------------------------------------------------------------
    def export_csv(self, header: list[str], rows: list[list[Any]], *, stem: str) -> Path:
        """Write a CSV into the app's export dir, the only directory gradio may serve files from."""
        self._prune_exports()
        name = f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}.csv"
        path = self.export_dir / name
        # utf-8-sig: Excel, which window staff open these in, needs the BOM to read Chinese
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)
        return path

    def _prune_exports(self) -> None:
        cutoff = time.time() - EXPORT_MAX_AGE_S
        for p in self.export_dir.glob("*.csv"):
            if p.stat().st_mtime < cutoff:
                p.unlink(missing_ok=True)

    # ---- documents ---------------------------------------------------------------------------
    def add_upload(self, src: Path, original_name: str,
                   progress: Callable[[str, int, int], None] | None = None) -> UploadResult:
        """Copy an uploaded file under <index>/uploads, ingest it, reload the index."""
        real = src.resolve()
        if self.upload_inbox not in real.parents or not real.is_file():
            # the upload route writes only there: any other path is a request naming a server file
            log.warning("upload refused: %s is not a file the upload route received", for_log(str(src)))
            raise UploadError("只能入库通过本页面上传的文件。")
        name = safe_filename(original_name)
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise UploadError(f"不支持的文件类型“{suffix or '无扩展名'}”，请上传 {' '.join(UPLOAD_SUFFIXES)} 文件。")
        size = src.stat().st_size
        cap = int(self.settings.max_upload_mb * 1024 * 1024)
        if size > cap:
            raise UploadError(f"文件过大（{size / 1048576:.1f} MB），上限为 {self.settings.max_upload_mb:g} MB。")
        if size == 0:
            raise UploadError("文件是空的。")
        dest = self.upload_dir / name
        existed = dest.exists()
        # one upload at a time in this process; other processes are kept out by the writer's file lock
        with self._ingest_lock:
            backup = None
            if existed:  # a re-upload under the same name replaces the document (ingest sees an update)
                backup = dest.with_name(dest.name + ".bak")
                shutil.copy2(dest, backup)
            shutil.copyfile(src, dest)
            try:
                report = self.indexer.ingest([dest], progress=progress)
            except IndexLocked:
                self._restore(dest, backup)
                raise UploadError("另一个入库任务正在写入索引，请稍后再试。") from None
            except Exception:
                self._restore(dest, backup)
                raise
            if report.failed:
                self._restore(dest, backup)
                reason = report.failed[0][1]
                log.warning("upload %s rejected: %s", name, reason)
                return UploadResult(f"“{name}”未能入库：{reason}", ok=False)
            if backup is not None:
                backup.unlink(missing_ok=True)
            self.reload()
        with self.reading() as idx:
            doc = next((d for d in idx.docs.values() if Path(d.source_path) == dest), None)
        if report.skipped:
            msg = f"“{name}”与已入库的版本相同，无需更新。"
        else:
            verb = "已更新" if report.updated else "已入库"
            msg = f"“{name}”{verb}：{doc.title if doc else name}，共 {doc.clause_count if doc else 0} 条条款。"
        log.info("upload %s: added=%d updated=%d skipped=%d", name, len(report.added), len(report.updated),
                 len(report.skipped))
        return UploadResult(msg, doc_id=doc.doc_id if doc else None)

    @staticmethod
    def _restore(dest: Path, backup: Path | None) -> None:
        if backup is not None:
            backup.replace(dest)
        else:
            dest.unlink(missing_ok=True)

    def remove_document(self, doc_id: str) -> str:
        with self.reading() as idx:
            doc = idx.docs.get(doc_id)
        if doc is None:
            raise UploadError("没有找到这份文件，可能已被移除。")
        with self._ingest_lock:
            try:
                self.indexer.ingest([], remove_doc_ids=[doc_id])
            except IndexLocked:
                raise UploadError("另一个入库任务正在写入索引，请稍后再试。") from None
            self.reload()
        src = Path(doc.source_path).resolve()
        if self.upload_dir in src.parents:
            src.unlink(missing_ok=True)
            note = "上传的文件已删除。"
        else:
            # files outside uploads/ belong to whoever ingested them; re-ingesting that folder adds it back
            note = f"源文件 {doc.source_file} 不在上传目录中，未删除；重新入库其所在目录会再次加入。"
        log.info("removed document %s (%s)", doc_id, doc.source_file)
        return f"已移除《{doc.title}》。{note}"
