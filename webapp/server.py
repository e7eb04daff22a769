"""The web server: public chat at "/", staff tools at "/staff", HTTP API under "/api", "/healthz".

One FastAPI application served by uvicorn; the gradio UIs are mounted into it (never share=True).
It is handed a ready AppState (index, bot, indexer built once by the composition root) and builds
nothing heavy itself.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from core.privacy import mask_logs
from core.settings import Settings
from webapp.api import build_router
from webapp.chat_ui import build_chat_blocks
from webapp.page_html import ChinesePageMiddleware, page_css
from webapp.security import harden
from webapp.staff_ui import build_staff_blocks
from webapp.state import AppState

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PUBLIC_UPLOAD_CAP = "1mb"  # the public page has no file inputs; gradio's upload route still exists


def parse_staff_users(spec: str | None) -> list[tuple[str, str]]:
    """'user:pw,user2:pw2' → [(user, pw), …]; a password may itself contain ':'."""
    users: list[tuple[str, str]] = []
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, pw = item.partition(":")
        if not sep or not name.strip() or not pw:
            log.warning("POLICYBOT_STAFF_USERS: ignoring an entry without 'user:password'")
            continue
        users.append((name.strip(), pw))
    return users


def blocked_paths(settings: Settings) -> list[str]:
    """What gradio must never serve, even if a bug or a new default would otherwise allow it."""
    index_dir = Path(settings.index_dir).resolve()
    paths = [index_dir, index_dir / "feedback.sqlite", ROOT / "data", ROOT / ".env", Path.cwd() / ".env",
             ROOT / "logs", Path.cwd() / "logs", ROOT / ".policybot", ROOT / ".git"]
    return sorted({str(p) for p in paths})


def gradio_temp_dir(runtime_dir: Path) -> Path:
    """gradio serves everything under its upload dir; keep it private to this app, not /tmp/gradio.
    Returns the folder uploads arrive in: the only place the staff upload handler takes files from."""
    if not os.environ.get("GRADIO_TEMP_DIR"):
        os.environ["GRADIO_TEMP_DIR"] = str(runtime_dir / "gradio")
    return Path(os.environ["GRADIO_TEMP_DIR"]).resolve()


def enforce_upload_folder(blocks: gr.Blocks) -> None:
    """Let gradio check the file paths an event names, as it does under launch().

    Mounted with mount_gradio_app, Blocks never count as launched, and gradio then skips its check
    that a file input names a file its upload route wrote: a request naming any server path would
    have it copied into the cache and handed to the handler. With the flag set, such a request fails
    before anything is copied (the handler checks the folder again).
    """
    blocks.has_launched = True


STAFF_DISABLED = ("<p>工作人员页面未启用：请设置 POLICYBOT_STAFF_USERS（user:password,…）后重启服务；"
                  "仅本机使用时也可设置 POLICYBOT_STAFF_OPEN_ON_LOOPBACK=true 并只监听 127.0.0.1。</p>")


def build_app(state: AppState, *, host: str | None = None) -> FastAPI:
    """The whole server as one ASGI app around a ready (warmed-up) AppState."""
    settings = state.settings
    host = host or settings.host

    app = FastAPI(title="policybot", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.policybot = state
    harden(app, upload_bytes=int(settings.max_upload_mb * 1024 * 1024), login=settings.login)
    app.add_middleware(ChinesePageMiddleware)
    app.include_router(build_router(state))

    common = {
        "allowed_paths": [str(state.export_dir)],
        "blocked_paths": blocked_paths(settings),
        "show_error": False,  # our exceptions go to the log, not to the browser
        # no footer: its API link is for scripts (documented in the README), not for visitors or window staff
        "footer_links": [],
        "run_history": False,  # help-desk PCs are shared: keep no questions in the browser
        "ssr_mode": False,
        "mcp_server": False,
        "css": page_css(),
        "server_name": host,
        "server_port": settings.port,
    }
    users = parse_staff_users(settings.staff_users)
    staff = None
    if users:
        staff = build_staff_blocks(state)
        gr.mount_gradio_app(app, staff, path="/staff", auth=users,
                            auth_message="政策问答 · 工作人员登录", max_file_size=f"{settings.max_upload_mb:g}mb",
                            **common)
    elif settings.staff_open_on_loopback and host in LOOPBACK:
        log.warning("POLICYBOT_STAFF_OPEN_ON_LOOPBACK: staff pages at /staff are open to anyone on this machine")
        staff = build_staff_blocks(state)
        gr.mount_gradio_app(app, staff, path="/staff", max_file_size=f"{settings.max_upload_mb:g}mb", **common)
    else:
        if settings.staff_open_on_loopback:
            log.warning("POLICYBOT_STAFF_OPEN_ON_LOOPBACK is ignored on host %s: staff pages are disabled", host)
        else:
            log.warning("POLICYBOT_STAFF_USERS is not set: staff pages are disabled")

        @app.api_route("/staff", methods=["GET", "POST", "HEAD"], response_class=HTMLResponse, status_code=403)
        @app.api_route("/staff/{rest:path}", methods=["GET", "POST", "HEAD"], response_class=HTMLResponse,
                       status_code=403)
        async def staff_disabled(rest: str = "") -> str:
            return STAFF_DISABLED

    # "/" last: a mount at the root catches every path the routes above did not take. It serves no
    # files: nothing in the public page links to one.
    chat = build_chat_blocks(state)
    gr.mount_gradio_app(app, chat, path="/", max_file_size=PUBLIC_UPLOAD_CAP, **{**common, "allowed_paths": []})
    for blocks in (staff, chat):
        if blocks is not None:
            enforce_upload_folder(blocks)
    return app


def server_config(app: FastAPI, *, host: str, port: int) -> uvicorn.Config:
    """uvicorn settings shared by `serve` and the tests' in-process server."""
    return uvicorn.Config(app, host=host, port=port, log_level="warning", server_header=False,
                          proxy_headers=False, lifespan="on",
                          # open event streams would otherwise hold a shutdown up indefinitely
                          timeout_graceful_shutdown=5)


def serve(app: FastAPI, *, host: str, port: int) -> None:
    """Run the server in the foreground until it is stopped."""
    if host not in LOOPBACK:
        log.warning("listening on %s: the app is reachable from other machines", host)
    log.info("serving on http://%s:%d (staff pages at /staff)", host, port)
    config = server_config(app, host=host, port=port)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # configured by uvicorn: mask them too
        mask_logs(logging.getLogger(name))
    uvicorn.Server(config).run()
