"""The HTTP API beside the UI: /api/ask, /api/search, /api/documents, /healthz (contracts: README, "HTTP API")."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from core.retrieval import Filters, Health
from webapp.state import AppState, QuestionError, readable

log = logging.getLogger(__name__)
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class AskBody(BaseModel):
    question: str = ""
    history: list[str] = Field(default_factory=list, max_length=50)


class Admission:
    """At most `limit` answers computed at once, at most `max_waiting` requests queued behind them.

    The bot is CPU-bound on 2 cores; letting every request in at once only makes all of them slow,
    and an unbounded queue lets a burst exhaust memory. Past the queue size the API answers 503.
    """

    def __init__(self, limit: int, max_waiting: int) -> None:
        self._sem = asyncio.Semaphore(max(1, limit))
        self._max = max(1, limit) + max(0, max_waiting)
        self._inflight = 0

    async def __aenter__(self) -> None:
        if self._inflight >= self._max:
            raise HTTPException(503, "服务繁忙，请稍后再试。", headers={"Retry-After": "5"})
        self._inflight += 1
        try:
            await self._sem.acquire()
        except BaseException:
            self._inflight -= 1
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._sem.release()
        self._inflight -= 1


def build_router(state: AppState) -> APIRouter:
    router = APIRouter()
    admission = Admission(state.settings.concurrency_limit, state.settings.queue_max_size)

    @router.post("/api/ask")
    async def ask(body: AskBody) -> dict[str, Any]:
        try:
            q = state.check_question(body.question)
            async with admission:
                ans = await run_in_threadpool(state.ask, q, body.history)
        except QuestionError as e:
            raise HTTPException(e.status_code, str(e)) from None
        return ans.to_json()

    @router.get("/api/search")
    async def search(
        q: str = Query("", description="search words"),
        region: str = "",
        doc: str = Query("", description="doc_id, 文号, file name or part of the title"),
        kind: str = "",
        lead_unit: str = "",
        deadline_year: int | None = None,
        k: int = Query(10, ge=1, le=50),
    ) -> list[dict[str, Any]]:
        if not q.strip():
            raise HTTPException(422, "请给出检索词 q。")
        if not all(readable(x) for x in (q, region, doc, kind, lead_unit)):
            raise HTTPException(400, "检索词中含有无法识别的字符。")
        if len(q) > state.settings.max_question_chars:
            raise HTTPException(413, f"检索词过长，请精简到 {state.settings.max_question_chars} 字以内。")
        filters = Filters(
            regions=state.resolve_regions(region or None),
            doc_ids=state.resolve_docs(doc or None),
            kinds=[kind] if kind else None,
            lead_unit=lead_unit or None,
            deadline_year=deadline_year,
        )
        if filters.doc_ids == []:
            return []  # a document was named but none matches: no results rather than all of them
        async with admission:
            hits = await run_in_threadpool(state.search, q, filters=filters, k=k)
        return [h.to_json() for h in hits]

    @router.get("/api/documents")
    async def documents() -> list[dict[str, Any]]:
        return await run_in_threadpool(state.catalog)

    @router.get("/healthz")
    async def healthz() -> dict[str, Any]:
        def read() -> tuple[int, int, Health]:
            with state.reading() as idx:
                return len(idx.docs), len(idx.clauses), idx.health()

        n_docs, n_clauses, health = await run_in_threadpool(read)
        # the model and its server as last probed (re-probed when it was down): extractive answers go on either way
        llm = await run_in_threadpool(state.llm.status) if state.llm is not None else None
        # "degraded": answers come from BM25 alone while the vector store (named in "detail") is unreachable
        return {"status": health.status, "documents": n_docs, "clauses": n_clauses, **health.to_json(), "llm": llm}

    # Added last: a path above asked with another method is 405 with Allow, not the chat page's 404
    # (the gradio app mounted at "/" would otherwise take every request no route matched in full).
    @router.api_route("/api/{rest:path}", methods=ALL_METHODS, include_in_schema=False)
    @router.api_route("/healthz", methods=ALL_METHODS, include_in_schema=False)
    async def wrong_method(request: Request, rest: str = "") -> JSONResponse:
        allowed = sorted({m for r in router.routes if isinstance(r, APIRoute) and r.endpoint is not wrong_method
                          and r.path_regex.match(request.url.path) for m in (r.methods or ())})
        if not allowed:
            return JSONResponse({"detail": "Not Found"}, status_code=404)
        return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": ", ".join(allowed)})

    return router
