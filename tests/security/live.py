"""Servers and CLI runs for the security tests (this module holds no tests).

Each server is the real app (composition root, gradio mounted into FastAPI, uvicorn) on a free
loopback port, in a background thread, over a COPY of the session's sample index; the CLI is the
real `policybot` command run in a subprocess of this checkout.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import TODAY
from tests.procs import free_port

ROOT = Path(__file__).resolve().parents[2]
STAFF_USER = "staff"
STAFF_PASSWORD = "probe-pass-123"


@dataclass
class Served:
    url: str
    index_dir: Path
    state: Any  # webapp.state.AppState

    @property
    def staff_url(self) -> str:
        return self.url + "/staff/"


def settings(index_dir: Path, **kw: Any) -> Any:
    from core.settings import Settings

    return Settings(index_dir=index_dir, today=dt.date.fromisoformat(TODAY), **kw)


_EXEMPLARS: list[Any] = []


def make_bot(index_dir: Path, **kw: Any) -> Any:
    """The real bot over the index; the intent exemplars (15 s of embedding, the same for every index)
    are embedded once per test session and handed to each new bot."""
    from policybot.wiring import make_bot as build_bot

    bot = build_bot(settings(index_dir, **kw))
    if _EXEMPLARS:
        bot._exemplars = _EXEMPLARS[0]
    else:
        _EXEMPLARS.append(bot._exemplar_index())
    return bot


def copy_index(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


@contextmanager
def serving(index_dir: Path, runtime_dir: Path, **kw: Any) -> Iterator[Served]:
    """The whole app served on a free loopback port until the block ends."""
    import uvicorn

    from policybot.web import app_state
    from policybot.wiring import Services, make_indexer
    from webapp.server import build_app, server_config

    runtime_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    kw.setdefault("host", "127.0.0.1")
    s = settings(index_dir, port=port, **kw)
    bot = make_bot(index_dir, port=port, **kw)
    services = Services(settings=s, index=bot.index, bot=bot, indexer=make_indexer(s))
    app = build_app(app_state(services, runtime_dir), host=kw["host"])
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, name=f"security-app-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", index_dir, app.state.policybot)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout=5)


def staff_login(client: httpx.Client, user: str = STAFF_USER, password: str = STAFF_PASSWORD) -> httpx.Response:
    return client.post("/staff/login", data={"username": user, "password": password})


def gradio_call(client: httpx.Client, prefix: str, api_name: str, data: list[Any]) -> tuple[str, Any]:
    """One event through gradio's HTTP API: ('complete', outputs) or ('error', message)."""
    r = client.post(f"{prefix}/gradio_api/call/{api_name}", json={"data": data})
    r.raise_for_status()
    event_id = r.json()["event_id"]
    kind, payload = "", None
    with client.stream("GET", f"{prefix}/gradio_api/call/{api_name}/{event_id}") as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                kind = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and kind in ("complete", "error"):
                payload = json.loads(line.split(":", 1)[1].strip() or "null")
                break
    return kind, payload


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The real `policybot` command of this checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYBOT_TODAY": TODAY, "POLICYBOT_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "policybot.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout, errors="replace")


def ingest_json(*args: str, timeout: float = 300) -> tuple[int, dict[str, Any]]:
    done = cli("ingest", *args, "--json", "--quiet", timeout=timeout)
    lines = [x for x in done.stdout.splitlines() if x.startswith("{")]
    return done.returncode, (json.loads(lines[-1]) if lines else {"stderr": done.stderr[-3000:]})
