"""PolicyBot: question (+history) → analysis → hybrid retrieval → grounded answer with citations."""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Callable

from bot import extractive, grounding
from bot.analysis import FACET_WORDS, Analysis, analyze, place_names
from bot.extractive import REFUSAL, Evidence
from bot.llm import LLMAnswerer
from core.records import STATUS_LABELS, STATUS_PHRASES, Answer, Citation, Clause, PolicyDocument, ScoredClause
from core.retrieval import Filters, Retriever, SearchMode
from core.settings import Settings

log = logging.getLogger(__name__)

YES_NO_ELIGIBILITY = re.compile(r"(能|可以|可不可以|能不能)(申请|申报|享受|参加|拿到?)吗?|符合(条件)?吗|算不算|够不够")
NON_CHONGQING = ("北京", "上海", "天津", "成都", "四川", "贵州", "云南", "广东", "深圳", "广州", "杭州", "浙江",
                 "江苏", "南京", "武汉", "湖北", "湖南", "长沙", "西安", "陕西", "山东", "济南", "青岛", "福建",
                 "厦门", "河南", "郑州", "全国")
Streamer = Callable[[str], None]
FACET_STOP = {w for words in FACET_WORDS.values() for w in words} | {"牵头单位", "责任单位", "配合单位", "完成时限"}


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
        self._units: list[str] = []  # lead unit names, longest first, of generation _units_gen
        self._units_gen: str | None = None

    @property
    def today(self) -> dt.date:
        return self.settings.today_date()

    def warm_up(self) -> None:
        self.index.warm_up()

    # ------------------------------------------------------------------------------------------
    def understand(self, question: str, history: list[str] | None = None) -> Analysis:
        history = [h for h in (history or []) if h and h.strip()]
        docs = list(self.index.docs.values())
        a = analyze(question, history, docs)
        if history and not a.follow_up and not self._terms(a)[0]:
            # "配合单位是谁？" names no topic of its own: it continues the conversation
            a = analyze(question, history, docs, force_follow_up=True)
        return a

    def retrieve(self, question: str, *, history: list[str] | None = None, k: int = 10) -> list[ScoredClause]:
        """The clauses `ask` would consider for this question, best first (for evaluation and staff)."""
        a = self.understand(question, history)
        return self.index.search(a.effective_question, k=k, filters=self._filters(a), mode=self.search_mode).hits

    def ask(self, question: str, *, history: list[str] | None = None, stream: Streamer | None = None) -> Answer:
        t0 = time.perf_counter()
        a = self.understand(question, history)
        ans = self._answer(a)
        ans.question = question
        ans.intent = a.intent
        if self._llm is not None and not ans.refused and a.intent not in ("metadata", "validity"):
            ans = self._llm.improve(
                a, ans, self._evidence_clauses(ans), docs=self.index.docs, stream=stream
            )
        elif stream is not None:
            stream(ans.answer)
        ans.warnings = self._warnings(ans.citations)
        ans.timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return ans

    def _answer(self, a: Analysis) -> Answer:
        if not a.question:
            return self._refuse(a, [], reason="empty")
        if any(p in a.foreign_places for p in NON_CHONGQING) and not a.regions:
            return self._refuse(a, [], reason="outside the corpus's regions")
        if a.intent in ("metadata", "validity"):
            meta = self._metadata(a)
            if meta is not None:
                return meta
        unit = self._named_unit(a)
        if unit and a.intent == "contact" and re.search(r"哪些|什么任务|什么工作|负责什么|牵头什么", a.question):
            listed = self._unit_tasks(a, unit)
            if listed is not None:
                return listed
        filters = self._filters(a)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        found = self.index.search(a.effective_question, k=self.tuning.hits, filters=filters, mode=self.search_mode)
        hits, st = found.hits, found.timings
        timings.update(embed_ms=st.embed_ms, bm25_ms=st.bm25_ms, dense_ms=st.dense_ms,
                       retrieve_ms=(time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        ans = self._extractive(a, hits)
        timings["compose_ms"] = (time.perf_counter() - t) * 1000
        ans.timings.update(timings)
        ans.clause_ids = [h.clause.clause_id for h in hits]
        return ans

    # ------------------------------------------------------------------------------------------
    def _filters(self, a: Analysis) -> Filters | None:
        if a.doc_ids:
            return Filters(doc_ids=a.doc_ids)
        if a.regions:
            return Filters(regions=a.regions)
        if a.foreign_places:
            # a district the corpus has no document for: only city-wide documents can apply to it
            return Filters(regions=["重庆市"])
        return None

    def _terms(self, a: Analysis) -> tuple[list[str], dict[str, float]]:
        tok = self.index.tokenize
        region_words = {n for d in self.index.docs.values() for n in place_names(d)}
        region_words |= FACET_STOP
        terms = grounding.content_terms(tok(a.question), extra_stop=region_words)
        if a.follow_up and len(terms) == 0:
            terms = grounding.content_terms(tok(a.history_terms), extra_stop=region_words)
        weights = self.index.term_weights(terms)
        return terms, weights

    def _facet_ok(self, a: Analysis, c: Clause, quote: str) -> bool:
        f = a.facets
        contact_wants = a.wants - {"时长"}
        if contact_wants and not any(x.kind in contact_wants for x in c.contacts):
            return False
        if "时长" in a.wants and not re.search(r"\d+\s*(年|个月|天|日|周)", quote):
            return False
        if f and f[0] == "amount" and not extractive.amount_phrases(quote):
            return False
        if "contact" in f and f[0] == "contact" and not (c.lead_units or c.responsible_units or
                                                         re.search(r"牵头|负责|会同|设在|设立", c.text)):
            return False
        if f and f[0] == "deadline" and not (c.deadline or c.years or re.search(r"年|月|完成后|之前|以前", c.text)):
            return False
        if "target" in f and f[0] == "target" and not re.search(r"\d", c.text):
            return False
        return True

    def _extractive(self, a: Analysis, hits: list[ScoredClause]) -> Answer:
        terms, weights = self._terms(a)
        a.terms, a.weights = terms, weights
        scored: list[tuple[float, int, Evidence]] = []
        for rank, h in enumerate(hits):
            doc = h.document
            header = h.clause.path[:1] in (["标题"], ["印发通知"], ["落款"], ["印发信息"])
            if doc is None or (header and a.intent != "metadata"):
                continue
            if grounding.looks_like_injection(h.clause.text):
                log.warning("clause %s reads like an instruction to a model; not answered from", h.clause.clause_id)
                continue
            context = grounding.clause_context(h.clause, doc)
            if grounding.benefit_mismatch(a.question, context):
                continue
            cov = grounding.coverage(terms, weights, context) if terms else 0.0
            quote = extractive.choose_quote(h.clause, a, terms, weights)
            if not self._facet_ok(a, h.clause, quote):
                continue
            # words stated in the clause's own text count more than words only in its title or path
            own = grounding.coverage(terms, weights, grounding.norm(h.clause.text).lower()) if terms else 0.0
            rank_score = cov + 0.3 * own + 0.25 * (1 - rank / max(1, len(hits)))
            if a.intent == "target":
                rank_score += self._target_bonus(a, h.clause, quote)
            scored.append((rank_score, rank, Evidence(h.clause, doc, quote, cov)))
        threshold = self.tuning.support_threshold
        if YES_NO_ELIGIBILITY.search(a.question):
            # "专科学历的能申请吗？": the asker's own situation is not in the text; the conditions are
            threshold = self.tuning.eligibility_threshold
        supported = [x for x in scored if x[2].coverage >= threshold]
        if not supported:
            return self._refuse(a, hits, reason="no clause supports an answer")
        supported.sort(key=lambda x: (-x[0], x[1]))
        best = supported[0][2]
        chosen = [best]
        multi = False
        if not a.regions and not a.doc_ids:
            per_region: dict[str, Evidence] = {}
            for _, _, ev in supported:
                r = ev.doc.region or ""
                if r not in per_region and ev.coverage >= self.tuning.multi_region_threshold:
                    per_region[r] = ev
            if len(per_region) > 1 and best.coverage >= self.tuning.multi_region_threshold:
                chosen = list(per_region.values())
                multi = True
        if not multi and a.list_mode:
            chosen = [ev for _, _, ev in supported if ev.doc.doc_id == best.doc.doc_id][:4]
        text, cites = extractive.compose(chosen, a, multi_region=multi)
        return Answer(question=a.question, answer=text, citations=cites, refused=False, intent=a.intent,
                      mode="extractive")

    def _named_unit(self, a: Analysis) -> str | None:
        """The longest lead unit of the corpus that the question names ("县科协牵头哪些任务")."""
        if self._units_gen != self.index.generation:
            self._units = sorted({u for c in self.index.clauses for u in c.lead_units if len(u) >= 3},
                                 key=len, reverse=True)
            self._units_gen = self.index.generation
        q = grounding.norm(a.question)
        return next((u for u in self._units if grounding.norm(u) in q), None)

    def _unit_tasks(self, a: Analysis, unit: str) -> Answer | None:
        clauses = [
            c for c in self.index.clauses
            if unit in c.lead_units and (not a.regions or self.index.docs[c.doc_id].region in a.regions)
            and (not a.doc_ids or c.doc_id in a.doc_ids)
        ]
        if not clauses:
            return None
        a.terms, a.weights = self._terms(a)
        evidence = [
            Evidence(c, self.index.docs[c.doc_id], extractive.choose_quote(c, a, a.terms, a.weights), 1.0)
            for c in clauses[:12]
        ]
        text, cites = extractive.compose(evidence, a, multi_region=False)
        if len(clauses) > len(evidence):
            text = f"共 {len(clauses)} 项，列出前 {len(evidence)} 项：\n" + text
        return Answer(question=a.question, answer=text, citations=cites, intent=a.intent, mode="extractive")

    @staticmethod
    def _target_bonus(a: Analysis, c: Clause, quote: str) -> float:
        """A target question is best answered by prose that states a quantity in the unit asked for."""
        unit = extractive.asked_unit(a.effective_question)
        bonus = 0.0
        if unit and re.search(rf"\d+(?:\.\d+)?\s*{unit}", quote):
            bonus += 0.2
        elif extractive.states_quantity(quote):
            bonus += 0.1
        if c.kind == "target":
            bonus += 0.1  # the document's own 目标 section
        if "\t" in c.text:
            bonus -= 0.15  # an indicator row's bare numbers are a fallback to the sentence that states them
        return bonus

    def _refuse(self, a: Analysis, hits: list[ScoredClause], *, reason: str) -> Answer:
        log.info("refused %r: %s", a.question[:80], reason)
        titles: list[str] = []
        for h in hits:
            if h.document and h.document.title not in titles:
                titles.append(h.document.title)
        if not titles and not a.foreign_places:
            titles = [d.title for d in self.index.docs.values()][:3]
        text = REFUSAL
        if titles:
            text += "\n可以查阅：" + "；".join(f"《{t}》" for t in titles[:3])
        return Answer(question=a.question, answer=text, refused=True, intent=a.intent, mode="extractive")

    # ------------------------------------------------------------------------------------------
    def _pick_doc(self, a: Analysis) -> PolicyDocument | None:
        docs = self.index.docs
        if a.doc_ids:
            return docs.get(a.doc_ids[0])
        cands = [d for d in docs.values() if a.regions and d.region in a.regions]
        if len(cands) == 1:
            return cands[0]
        hits = self.index.search(a.effective_question, k=5, filters=self._filters(a)).hits
        if hits and hits[0].document and (not cands or hits[0].document in cands):
            return hits[0].document
        return None

    def _metadata(self, a: Analysis) -> Answer | None:
        if a.foreign_places and not a.regions and not a.doc_ids:
            return None
        if re.search(r"哪些文件|哪些政策文件|几个文件|有什么文件", a.question):
            return self._catalog_answer(a)
        doc = self._pick_doc(a)
        if doc is None:
            return None
        clauses = [c for c in self.index.clauses if c.doc_id == doc.doc_id]
        notice = next((c for c in clauses if c.path == ["印发通知"]), None) or next(
            (c for c in clauses if c.path == ["标题"]), None
        )
        signature = next((c for c in clauses if c.path == ["落款"]), None)
        if a.intent == "validity":
            return self._validity_answer(a, doc, clauses, notice)
        if re.search(r"落实|依据|根据|会议", a.question) or not re.search(
            r"文号|发文|印发|发布|发的|哪天|日期|时间|单位|机关|全称|标题|名称|叫什么|制定|出台", a.question
        ):
            return None  # e.g. "哪次会议通过": an extractive answer from the notice text
        signature = signature or next((c for c in clauses if c.path == ["印发信息"]), None)
        text, cites = extractive.metadata_answer(doc, notice, signature)
        if not cites:
            return None
        return Answer(question=a.question, answer=text, citations=cites, intent=a.intent)

    def _validity_answer(self, a: Analysis, doc: PolicyDocument, clauses: list[Clause],
                         notice: Clause | None) -> Answer | None:
        status = STATUS_PHRASES[doc.status]
        period_pat = re.compile(r"实施期限|有效期|规划期|执行期|至\d{4}年\d{1,2}月\d{1,2}日止")
        draft_pat = re.compile(r"征求意见稿|送审稿|草案")
        pat = period_pat
        c = next((x for x in clauses if period_pat.search(x.text)), None)
        if c is None:
            pat = draft_pat
            c = next((x for x in clauses if draft_pat.search(x.text)), None)
        lines = [f"《{doc.title}》：{status}。"]
        cites: list[Citation] = []
        if c is not None:
            quote = next((s for s in grounding.sentences(c.text) if pat.search(s)), c.text).strip()
            lines.append(f"原文：“{quote}”[1]")
            cites.append(Citation(doc.doc_id, doc.title, c.label, quote, doc.source_file, c.clause_id))
        elif notice is not None:
            quote = next((s for s in notice.text.split("\n") if "通知" in s or "印发" in s), notice.text).strip()
            lines.append(f"原文：“{quote}”[1]")
            cites.append(Citation(doc.doc_id, doc.title, notice.label, quote, doc.source_file, notice.clause_id))
        if doc.period:
            lines.insert(1, f"期限：{doc.period}年（见文件标题）。")
        if not cites:
            return None
        lines.append("")
        lines.append(f"[1] 《{doc.title}》 {cites[0].clause}")
        return Answer(question=a.question, answer="\n".join(lines), citations=cites, intent=a.intent)

    def _catalog_answer(self, a: Analysis) -> Answer:
        rows = []
        cites: list[Citation] = []
        for n, d in enumerate(sorted(self.index.docs.values(), key=lambda d: d.region or ""), start=1):
            status = STATUS_LABELS[d.status]
            rows.append(f"{n}. 《{d.title}》（{d.region or '—'}，{d.doc_number or '无文号'}，{status}）")
        return Answer(question=a.question, answer="现有政策文件：\n" + "\n".join(rows), citations=cites,
                      intent=a.intent)

    # ------------------------------------------------------------------------------------------
    def _evidence_clauses(self, ans: Answer) -> list[Clause]:
        """The cited clauses first, then the other top hits, as the model's sources."""
        out = []
        ids = [c.clause_id for c in ans.citations] + [i for i in ans.clause_ids if i not in
                                                       {c.clause_id for c in ans.citations}]
        for cid in ids[:6]:
            c = self.index.clause(cid)
            if c is not None:
                out.append(c)
        return out

    def _warnings(self, cites: list[Citation]) -> list[str]:
        out: list[str] = []
        today = self.today
        for n, c in enumerate(cites, start=1):
            doc = self.index.docs.get(c.doc_id)
            if doc is None:
                continue
            if doc.status == "draft":
                w = f"《{doc.title}》为征求意见稿，内容可能调整，不能作为正式执行依据。"
            elif doc.status == "expired":
                w = f"《{doc.title}》执行期（{doc.period}年）已结束，请以最新政策为准。"
            else:
                w = ""
            if w and w not in out:
                out.append(w)
            clause = self.index.clause(c.clause_id) if c.clause_id else None
            dl = clause.deadline if clause else None
            if dl and dl.date and not dl.recurring and dt.date.fromisoformat(dl.date) < today:
                which = f"[{n}]" if len(cites) > 1 else "该事项"
                w = f"{which}完成时限（{dl.text}）已过。"
                if w not in out:
                    out.append(w)
        return out

    @staticmethod
    def render_text(ans: Answer) -> str:
        parts = [ans.answer]
        for w in ans.warnings:
            parts.append(f"⚠ {w}")
        return "\n".join(parts)
