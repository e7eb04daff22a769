"""The web part of the composition root: built services → AppState → the served app."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from core.settings import Settings
from policybot.wiring import Services, build
from webapp import server
from webapp.state import AppState


def app_state(services: Services, runtime_dir: Path) -> AppState:
    """The web app's state around built services; warms the bot up so the first visitor does not wait."""
    inbox = server.gradio_temp_dir(runtime_dir)
    s = services
    return AppState(s.settings, runtime_dir=runtime_dir, index=s.index, bot=s.bot, indexer=s.indexer,
                    upload_inbox=inbox, llm=s.llm)


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """`policybot serve` and `python app.py`: build everything once, then run the server in the foreground."""
    host = host or settings.host
    port = port or settings.port
    runtime_dir = Path(tempfile.mkdtemp(prefix="policybot-web-"))
    try:
        state = app_state(build(settings), runtime_dir)
        server.serve(server.build_app(state, host=host), host=host, port=port)
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)
