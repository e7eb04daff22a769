"""PolicyBot: question (+ earlier questions) → understand → retrieve → select evidence → compose → verify.

Each stage is a module of its own (understand.py, evidence.py, quotes.py, compose.py, verify.py); this
module runs them in order and keeps what a conversation carries from one turn to the next.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from bot import compose, evidence, family, intents, quotes, verify, wordclass
from bot.compose import REFUSAL, Section
from bot.evidence import Evidence
from bot.language import FACET_QUERY_WORDS, QUESTION_MARK
from bot.llm import LLMAnswerer
from bot.understand import Carried, Part, Understanding, understand
from bot.vocabulary import Vocabulary, learn
from core.errors import BackendUnavailable
from core.records import STATUS_PHRASES, Answer, Citation, Clause, PolicyDocument, ScoredClause
from core.regions import Region, gazetteer
from core.retrieval import Filters, Retriever, SearchMode, SearchResult, collecting_warnings, note_warning
from core.settings import Settings

log = logging.getLogger(__name__)
Streamer = Callable[[str], None]
LOCAL_FACETS = ("target", "contact")
TURN_CACHE = 256  # resolved turns kept per process: a conversation's earlier turns are not re-answered
_UNIT_TASKS = re.compile(r"哪些|什么任务|什么工作|负责什么|牵头什么|管什么|有几项")
_DOC_META = re.compile(r"文号|发文|印发|发布|发的|哪天|日期|时间|单位|机关|全称|标题|名称|叫什么|制定|出台|成文")
_ASKS_NUMBER = re.compile(r"文号|字号")
_ASKS_ISSUER = re.compile(r"发文单位|发文机关|(哪个|哪家|什么|哪些)(单位|部门|机关|机构)\S{0,2}"
                          r"(印发|发布|发的|出的|出台|制定|发文)|谁(印发|发布|发的|出的|制定|出台)|信息来源|文章来源")
_ASKS_DATE = re.compile(r"哪天|日期|(什么时候|何时|哪年)(印发|发布|发的|出台)|印发时间|发布时间")
PAGE_METADATA = "基本信息"  # path ingest gives the metadata block a web page shows above its text
_ASKS_SPAN = re.compile(r"几年|多少年|多久|多长|期限")
_STATES_SPAN = re.compile(r"(有效期|期限|规划期|执行期)\S{0,3}([\d一二三四五六七八九十两]+)\s*年")
_CATALOG = re.compile(r"哪些文件|哪些政策文件|几个文件|有什么文件|几份文件|哪几份")


class PolicyBot:
    def __init__(
        self,
        index: Retriever,
        *,
        settings: Settings,
        llm: LLMAnswerer | None = None,
        search_mode: SearchMode = "hybrid",
    ) -> None:
        self.index = index
        self.settings = settings
        self.tuning = settings.answer
        self._llm = llm
        self.search_mode = search_mode  # the evaluation compares bm25 / dense / hybrid retrieval
        self._vocab = Vocabulary()
        self._exemplars: intents.ExemplarIndex | None = None
        self._turns: OrderedDict[tuple[str, ...], tuple[Understanding, Answer]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def today(self) -> dt.date:
        return self.settings.today_date()

    def warm_up(self) -> None:
        self.index.warm_up()
        wordclass.warm_up()
        self._exemplar_index()
        self.vocabulary()

    # ---- collection knowledge -------------------------------------------------------------------
    def vocabulary(self) -> Vocabulary:
        if self._vocab.generation != self.index.generation or not self._vocab.generation:
            with self._lock:
                if self._vocab.generation != self.index.generation or not self._vocab.generation:
                    self._vocab = learn(self.index)
                    self._turns.clear()
        return self._vocab

    def _exemplar_index(self) -> intents.ExemplarIndex | None:
        """None while an embeddings endpoint is unreachable: facets then come from cue words alone."""
        if self._exemplars is None:
            examples = intents.load_exemplars()
            try:
                vecs = np.vstack([self.index.embed_query(q) for _, q in examples])
            except BackendUnavailable:
                return None
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            self._exemplars = intents.ExemplarIndex([f for f, _ in examples], vecs)
        return self._exemplars

    # ---- stages ---------------------------------------------------------------------------------
    def understand(self, question: str, history: list[str] | None = None) -> Understanding:
        history = [h for h in (history or []) if h and h.strip()]
        while history and not QUESTION_MARK.search(history[-1]):
            # a turn that only tells the asker's situation is the preamble of the question after it
            question = f"{history[-1].rstrip('。.，,')}，{question}"
            history = history[:-1]
        carried = self._carried(history)
        return understand(question, index=self.index, vocab=self.vocabulary(), tuning=self.tuning, carried=carried,
                          exemplars=self._exemplar_index())

    def _carried(self, history: list[str]) -> Carried | None:
        """What the last earlier turn resolved to (itself resolved against the turns before it)."""
        if not history:
            return None
        prev_u, prev_ans = self._resolve(history[-1], history[:-1])
        return Carried(
            regions=list(prev_u.places),
            doc_ids=list(prev_u.doc_ids) or list(dict.fromkeys(c.doc_id for c in prev_ans.citations))[:1],
            terms=dict(list(prev_u.roles.items())[:16]),
            facets=prev_u.facets,
            clause_ids=[c.clause_id for c in prev_ans.citations],
            ask=prev_u.ask,
        )

    def _resolve(self, question: str, history: list[str]) -> tuple[Understanding, Answer]:
        key = (self.index.generation, question, *history)
        with self._lock:
            hit = self._turns.get(key)
            if hit is not None:
                self._turns.move_to_end(key)
                return hit
        with collecting_warnings() as notes:
            u = self.understand(question, history)
            ans = self._answer(u)
        for note in notes:
            note_warning(note)  # on to whoever collects this answer's warnings
        if notes:  # found while the search was degraded (BM25 alone): not kept, the next asking may do better
            return u, ans
        with self._lock:
            self._turns[key] = (u, ans)
            while len(self._turns) > TURN_CACHE:
                self._turns.popitem(last=False)
        return u, ans

    def retrieve(self, question: str, *, history: list[str] | None = None, k: int = 10) -> list[ScoredClause]:
        """The clauses `ask` considers for this question, best first (for evaluation and staff)."""
        u = self.understand(question, history)
        return self._search(u, k).hits

    def _search(self, u: Understanding, k: int) -> SearchResult:
        words = FACET_QUERY_WORDS.get(u.intent)
        if words is None or self.search_mode == "dense":
            return self.index.search(u.query, k=k, filters=self._filters(u), mode=self.search_mode,
                                     query_vector=u.vector)
        # the words documents head such facts with ("申请程序", "受理"), for the lexical side only: the
        # meaning of the question, embedded, stays the asker's own
        if u.vector is None and self.search_mode == "hybrid":
            with contextlib.suppress(BackendUnavailable):  # the search then reports dense as down
                u.vector = self.index.embed_query(u.query)
        return self.index.search(f"{u.query} {words}", k=k, filters=self._filters(u), mode=self.search_mode,
                                 query_vector=u.vector)

    def _filters(self, u: Understanding) -> Filters | None:
        if u.doc_ids:
            return Filters(doc_ids=u.doc_ids)
        scope = u.local_scope if self._local(u) else u.scope
        if scope is not None:
            return Filters(regions=scope)
        return None

    @staticmethod
    def _local(u: Understanding) -> bool:
        """Targets and lead units belong to the plan of the place itself, not to the plans above it."""
        return u.intent in LOCAL_FACETS and u.local_scope is not None

    # ---- asking ---------------------------------------------------------------------------------
    def ask(self, question: str, *, history: list[str] | None = None, stream: Streamer | None = None) -> Answer:
        t0 = time.perf_counter()
        history = [h for h in (history or []) if h and h.strip()]
        u, ans = self._resolve(question, history)
        ans = Answer(question=question, answer=ans.answer, citations=list(ans.citations), refused=ans.refused,
                     warnings=[], intent=u.intent, mode="extractive", timings=dict(ans.timings),
                     clause_ids=list(ans.clause_ids))
        if self._llm is not None and not ans.refused and u.intent not in ("metadata", "validity"):
            ans = self._llm.improve(u, history, ans, self._evidence_clauses(ans), docs=self.index.docs, stream=stream)
        elif stream is not None:
            stream(ans.answer)
        ans.warnings = self._warnings(ans.citations)
        ans.timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return ans

    def _answer(self, u: Understanding) -> Answer:
        t0 = time.perf_counter()
        vocab = self.vocabulary()
        if not u.question:
            return self._refuse(u, [], reason="empty")
        if u.uncovered and not u.scope:
            return self._refuse(u, [], reason="a place the collection does not cover")
        if self._local(u) and not u.local_scope:
            return self._refuse(u, [], reason="no document of the place itself states its targets or units",
                                places=u.places)
        if u.intent in ("metadata", "validity") and all(p.intent in ("metadata", "validity") for p in u.parts):
            meta = self._metadata(u)
            if meta is not None:
                return meta
        unit = next((x for x in vocab.units if x in u.question), None)
        if unit and u.intent == "contact" and _UNIT_TASKS.search(u.question):
            listed = self._unit_tasks(u, unit)
            if listed is not None:
                return listed
        lists = any(p.list_mode for p in u.parts) and len(u.parts) == 1
        found = self._search(u, self.tuning.list_hits if lists else self.tuning.hits)
        hits = self._with_carried(u, found.hits)
        sections = self._select(u, hits)
        if not any(s.evidence for s in sections):
            return self._refuse(u, hits, reason="no clause supports an answer")
        text, cites = compose.compose(sections, u)
        problems = verify.extractive(text, cites, {c.clause_id: c for c in (self.index.clause(x.clause_id)
                                                                          for x in cites) if c is not None})
        if problems:
            log.error("composed answer failed verification (%s); refused", "; ".join(problems))
            return self._refuse(u, hits, reason="verification")
        ans = Answer(question=u.question, answer=text, citations=cites, intent=u.intent, mode="extractive",
                     clause_ids=[h.clause.clause_id for h in hits])
        st = found.timings
        ans.timings.update(embed_ms=st.embed_ms, bm25_ms=st.bm25_ms, dense_ms=st.dense_ms)
        ans.timings["answer_ms"] = (time.perf_counter() - t0) * 1000
        return ans

    def _with_carried(self, u: Understanding, hits: list[ScoredClause]) -> list[ScoredClause]:
        """A follow-up without a topic of its own ("那配合单位呢？") is about what the last answer cited."""
        if not u.follow_up or u.carried is None or not u.carried.clause_ids:
            return hits
        own_topic = any(r == 1.0 for r in u.roles.values())
        ids = u.carried.clause_ids
        if u.ordinal is not None and 1 <= u.ordinal <= len(ids):
            ids = [ids[u.ordinal - 1]]
        elif own_topic:
            return hits
        filters = self._filters(u)
        front = []
        for cid in ids:
            c = self.index.clause(cid)
            doc = self.index.docs.get(c.doc_id) if c is not None else None
            allowed = filters is None or (filters.doc_ids and c.doc_id in filters.doc_ids) or (
                filters.regions is not None and doc is not None and doc.region in filters.regions)
            if c is not None and allowed:
                front.append(ScoredClause(c, 1.0, self.index.docs.get(c.doc_id), dense=1.0))
        seen = {h.clause.clause_id for h in front}
        return front + [h for h in hits if h.clause.clause_id not in seen]

    def _select(self, u: Understanding, hits: list[ScoredClause]) -> list[Section]:
        vocab, tune = self.vocabulary(), self.tuning
        sections: list[Section] = []
        for part in u.parts:
            cands = [e for e in evidence.candidates(u, part, hits, vocab, tune) if evidence.supports(e, u, part, tune)]
            names_own_topic = any(wordclass.weight(t, used_by_collection=True) >= 1.0 for t in part.terms)
            if sections and not names_own_topic and sections[-1].evidence is None:
                cands = []  # "…有租金补贴吗？每年多少？": no basis for the first, none for what hangs on it
            if not cands:
                sections.append(Section(part, None))
                continue
            best = cands[0]
            multi = self._per_region(u, cands)
            if len(u.parts) == 1 and len(multi) > 1:
                return [Section(part, e, heading=f"【{compose.region_label(e.doc)}】") for e in multi]
            if part.list_mode and len(u.parts) == 1:
                return [Section(part, e) for e in _list_items(best, cands, tune.list_items)]
            sections.append(Section(part, best))
        return _merge_same_clause(sections)

    def _per_region(self, u: Understanding, cands: list[Evidence]) -> list[Evidence]:
        """A question naming no place (or several: "A和B分别…") and no document, answered differently by
        several regions' documents: one answer per region."""
        if len(u.places) > 1 and not u.doc_ids:
            per_place: list[Evidence] = []
            g = gazetteer()
            for p in u.places:
                own = next((e for e in cands if (r := g.get(e.doc.region)) is not None and g.contains(p, r)), None)
                if own is not None and own not in per_place:
                    per_place.append(own)
            return per_place or cands[:1]
        if u.scope is not None or u.doc_ids or cands[0].coverage < self.tuning.multi_region_threshold:
            return cands[:1]
        per: dict[str, Evidence] = {}
        for e in cands:
            r = e.doc.region or ""
            if r not in per and e.coverage >= self.tuning.multi_region_threshold:
                per[r] = e
        return list(per.values())

    # ---- answers of their own kind ----------------------------------------------------------------
    def _unit_tasks(self, u: Understanding, unit: str) -> Answer | None:
        clauses = [
            c for c in self.index.clauses
            if unit in c.lead_units and (u.scope is None or self.index.docs[c.doc_id].region in u.scope)
            and (not u.doc_ids or c.doc_id in u.doc_ids) and not evidence.is_instruction(c)
        ]
        if not clauses:
            return None
        part = u.parts[0]
        sections = [Section(part, Evidence(c, self.index.docs[c.doc_id], quotes.choose(c, u, part), 1.0))
                    for c in clauses[: self.tuning.unit_tasks]]
        text, cites = compose.compose(sections, u)
        if len(clauses) > len(sections):
            text = f"共 {len(clauses)} 项，列出前 {len(sections)} 项：\n" + text
        return Answer(question=u.question, answer=text, citations=cites, intent=u.intent, mode="extractive")

    def _refuse(self, u: Understanding, hits: list[ScoredClause], *, reason: str,
                places: list[Region] | None = None) -> Answer:
        log.info("refused (%s)", reason)
        docs = list(self.index.docs.values())
        regions = sorted({d.region for d in docs if d.region})
        nearest: list[tuple[str, str]] = []
        for h in hits:
            if h.document and (h.document.title, h.clause.label) not in nearest and h.clause.path[:1] not in (
                    ["标题"], ["印发通知"], ["落款"], ["印发信息"]):
                nearest.append((h.document.title, h.clause.label))
        text = compose.refusal_text(regions=regions, n_docs=len(docs), uncovered=places or u.uncovered,
                                    nearest=nearest)
        return Answer(question=u.question, answer=text, refused=True, intent=u.intent, mode="extractive",
                      clause_ids=[h.clause.clause_id for h in hits])

    def _pick_doc(self, u: Understanding) -> PolicyDocument | None:
        docs = self.index.docs
        if u.doc_ids:
            return docs.get(u.doc_ids[0])
        cands = [d for d in docs.values() if u.scope is not None and d.region in u.scope]
        g = gazetteer()
        if u.places and cands:
            # the documents of the place named, before those of the places around it
            own = [d for d in cands if d.region and (r := g.get(d.region)) is not None and r in u.places]
            cands = own or cands
        if len(cands) == 1:
            return cands[0]
        hits = self.index.search(u.query, k=5, filters=self._filters(u), query_vector=u.vector).hits
        if hits and hits[0].document and (not cands or hits[0].document in cands):
            return hits[0].document
        return None

    def _metadata(self, u: Understanding) -> Answer | None:
        if u.uncovered and not u.doc_ids and not u.scope:
            return None
        if _CATALOG.search(u.question):
            return Answer(question=u.question, answer=compose.catalog_answer(list(self.index.docs.values())),
                          intent=u.intent)
        doc = self._pick_doc(u)
        if doc is None:
            return None
        clauses = self.index.matching(Filters(doc_ids=[doc.doc_id]))  # a scan of every clause took ~24 ms at 100k
        notice = next((c for c in clauses if c.path == ["印发通知"]), None) or next(
            (c for c in clauses if c.path == ["标题"]), None)
        signature = next((c for c in clauses if c.path == ["落款"]), None)
        if u.intent == "validity":
            return self._validity_answer(u, doc, clauses, notice)
        if re.search(r"落实|依据|根据|会议|常务会", u.question) or not _DOC_META.search(u.question):
            return None  # e.g. "哪次会议通过": an extractive answer from the notice text
        signature = signature or next((c for c in clauses if c.path == ["印发信息"]), None)
        page_block = next((c for c in clauses if c.path == [PAGE_METADATA]), None)
        asked = [name for name, rx, value in (
            ("文号", _ASKS_NUMBER, doc.doc_number), ("发文单位", _ASKS_ISSUER, doc.issuer),
            ("印发日期", _ASKS_DATE, doc.issued_on)) if rx.search(u.question)]
        missing = [name for name, rx, value in (
            ("文号", _ASKS_NUMBER, doc.doc_number), ("发文单位", _ASKS_ISSUER, doc.issuer),
            ("印发日期", _ASKS_DATE, doc.issued_on)) if rx.search(u.question) and not value]
        if asked and missing == asked:
            # what was asked is not in the document: say so, citing nothing
            text = f"{REFUSAL}\n《{doc.title}》中未载明{'、'.join(missing)}。"
            return Answer(question=u.question, answer=text, refused=True, intent=u.intent)
        text, cites = compose.metadata_answer(doc, notice, signature, page_block)
        if not cites:
            return None
        return Answer(question=u.question, answer=text, citations=cites, intent=u.intent)

    def _validity_answer(self, u: Understanding, doc: PolicyDocument, clauses: list[Clause],
                         notice: Clause | None) -> Answer | None:
        period_pat = re.compile(r"实施期限|有效期|规划期|执行期|施行|失效|至\d{4}年\d{1,2}月\d{1,2}日止")
        draft_pat = re.compile(r"征求意见稿|送审稿|草案")
        asks_draft = re.search(r"征求意见|正式|草案|定稿|送审", u.question)
        pat = draft_pat if asks_draft and doc.status == "draft" else period_pat
        stated = [x for x in clauses if pat.search(x.text)]
        if not stated:
            pat = period_pat if pat is draft_pat else draft_pat
            stated = [x for x in clauses if pat.search(x.text)]
        if _ASKS_SPAN.search(u.question):  # "有效期几年": the clause that counts the years, before a bare end date
            stated.sort(key=lambda x: not _STATES_SPAN.search(x.text))
        c = stated[0] if stated else None
        lines = [f"《{doc.title}》：{STATUS_PHRASES[doc.status]}。"]
        cites: list[Citation] = []
        if c is not None:
            quote = _matching_run(c.text, pat) or c.text.strip()
            lines.append(f"原文：“{quote}”[1]")
            cites.append(Citation(doc.doc_id, doc.title, c.label, quote, doc.source_file, c.clause_id))
        elif notice is not None:
            quote = next((s for s in notice.text.split("\n") if "通知" in s or "印发" in s), notice.text).strip()
            lines.append(f"原文：“{quote}”[1]")
            cites.append(Citation(doc.doc_id, doc.title, notice.label, quote, doc.source_file, notice.clause_id))
        if doc.period:
            lines.insert(1, f"期限：{doc.period}年。")
        if doc.valid_until:
            lines.insert(1, f"有效期至：{quotes.cn_date(doc.valid_until)}。")
        if not cites:
            return None
        lines += ["", f"[1] 《{doc.title}》 {cites[0].clause}"]
        return Answer(question=u.question, answer="\n".join(lines), citations=cites, intent=u.intent)

    # ---- after the answer ---------------------------------------------------------------------------
    def _evidence_clauses(self, ans: Answer) -> list[Clause]:
        """The cited clauses first, then the other top hits, as the model's sources."""
        cited = [c.clause_id for c in ans.citations]
        ids = cited + [i for i in ans.clause_ids if i not in set(cited)]
        return [c for c in (self.index.clause(i) for i in ids[:6]) if c is not None]

    def _warnings(self, cites: list[Citation]) -> list[str]:
        out: list[str] = []
        for n, c in enumerate(cites, start=1):
            doc = self.index.docs.get(c.doc_id)
            if doc is None:
                continue
            w = ""
            if doc.status == "draft":
                w = f"《{doc.title}》为征求意见稿，内容可能调整，不能作为正式执行依据。"
            elif doc.status == "expired" and doc.valid_until:
                w = f"《{doc.title}》有效期（至{quotes.cn_date(doc.valid_until)}）已结束，请以最新政策为准。"
            elif doc.status == "expired":
                w = f"《{doc.title}》执行期（{doc.period}年）已结束，请以最新政策为准。"
            elif doc.status == "not_yet":
                w = f"《{doc.title}》尚未开始施行。"
            if w and w not in out:
                out.append(w)
            clause = self.index.clause(c.clause_id) if c.clause_id else None
            dl = clause.deadline if clause else None
            if dl and dl.date and not dl.recurring and dt.date.fromisoformat(dl.date) < self.today:
                which = f"[{n}]" if len(cites) > 1 else "该事项"
                w = f"{which}完成时限（{dl.text}）已过。"
                if w not in out:
                    out.append(w)
        return out

    @staticmethod
    def render_text(ans: Answer) -> str:
        return "\n".join([ans.answer, *(f"⚠ {w}" for w in ans.warnings)])


def _list_items(best: Evidence, cands: list[Evidence], limit: int) -> list[Evidence]:
    """The items of a list answer: clauses of the best one's document, from the best one's part of the
    document when that part holds several (the benefits for employers rather than those for
    graduates, when a company asks), without an item's own aspects ("一、某某补贴 › 申领方式") beside it."""
    same_doc = [e for e in cands if e.doc.doc_id == best.doc.doc_id]
    section = best.clause.path[:1]
    inside = [e for e in same_doc if e.clause.path[:1] == section]
    pool = inside if section and len({tuple(e.clause.path) for e in inside}) >= 3 else same_doc
    out: list[Evidence] = []
    for e in pool:
        path = e.clause.path
        if any(len(o.clause.path) < len(path) and path[: len(o.clause.path)] == o.clause.path
               and not family.NUMBERED.match(path[-1]) for o in out):
            continue
        out.append(e)
    return out[:limit]


def _merge_same_clause(sections: list[Section]) -> list[Section]:
    """Parts answered by the same clause become one section that answers all their facets."""
    out: list[Section] = []
    for s in sections:
        same = next((o for o in out if s.evidence and o.evidence and o.evidence.clause.clause_id
                     == s.evidence.clause.clause_id), None)
        if same is None:
            out.append(s)
            continue
        facets = same.part.facets + [f for f in s.part.facets if f not in same.part.facets]
        same.part = Part(text=same.part.text + s.part.text, facets=facets, wants=same.part.wants | s.part.wants,
                         terms=same.part.terms + [t for t in s.part.terms if t not in same.part.terms],
                         list_mode=same.part.list_mode)
        if s.evidence and same.evidence and s.evidence.quote not in same.evidence.quote:
            merged = _span(same.evidence.clause.text, same.evidence.quote, s.evidence.quote)
            same.evidence.quote = merged or same.evidence.quote
    return out


def _span(text: str, a: str, b: str) -> str | None:
    """The verbatim stretch of text from the earlier of two quotes to the end of the later one."""
    i, j = text.find(a), text.find(b)
    if i < 0 or j < 0:
        return None
    start, end = min(i, j), max(i + len(a), j + len(b))
    return text[start:end] if end - start <= 400 else None


def _lines_and_sentences(text: str) -> list[str]:
    return [s for line in text.split("\n") for s in re.split(r"(?<=[。；;])", line) if s.strip()]


def _matching_run(text: str, pat: re.Pattern[str]) -> str | None:
    """The first run of consecutive sentences that state the pattern, verbatim ("有效期N年。有效期满而…继续执行。")."""
    pieces = _lines_and_sentences(text)
    first = next((i for i, s in enumerate(pieces) if pat.search(s)), None)
    if first is None:
        return None
    last = first
    while last + 1 < len(pieces) and pat.search(pieces[last + 1]):
        last += 1
    run = "".join(pieces[first : last + 1]).strip()
    return run if run in text else pieces[first].strip()


__all__ = ["REFUSAL", "PolicyBot"]
