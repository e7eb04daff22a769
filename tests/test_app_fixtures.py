"""A live policybot web app for the app, security and browser tests (this module holds no tests).

One uvicorn server per test session, in a background thread on a free loopback port, serving a
COPY of the session's sample index (uploads in the tests must not change the shared index).
Each test module defines a session fixture that calls `shared_live_app`; the server is cached here
so the app, security and browser tests share one (and pytest tears it down at session end).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

STAFF_USER = "staff"
STAFF_PASSWORD = "test-pass-123"


@dataclass
class LiveApp:
    url: str  # "http://127.0.0.1:PORT" (no trailing slash)
    index_dir: Path
    runtime_dir: Path
    state: object  # webapp.state.AppState

    @property
    def staff_url(self) -> str:
        return self.url + "/staff/"


_live: LiveApp | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shared_live_app(request: pytest.FixtureRequest, sample_index_dir: Path, settings_factory,
                    tmp_path_factory: pytest.TempPathFactory) -> LiveApp:
    """Start the app once per session; call from a session-scoped fixture."""
    global _live
    if _live is not None:
        return _live
    import uvicorn

    from policybot.web import app_state
    from policybot.wiring import build
    from webapp.server import build_app, server_config

    root = tmp_path_factory.mktemp("live-app")
    index_dir = root / "index"
    shutil.copytree(sample_index_dir, index_dir)
    runtime_dir = root / "runtime"
    runtime_dir.mkdir()
    port = _free_port()
    settings = settings_factory(index_dir, host="127.0.0.1", port=port,
                                staff_users=f"{STAFF_USER}:{STAFF_PASSWORD}")
    app = build_app(app_state(build(settings), runtime_dir))
    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, name="live-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    _live = LiveApp(f"http://127.0.0.1:{port}", index_dir, runtime_dir, app.state.policybot)

    def stop() -> None:
        global _live
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():  # an event stream a client left open
            server.force_exit = True
            thread.join(timeout=5)
        _live = None

    request.addfinalizer(stop)
    return _live
