"""HTTP hardening around the gradio apps: file routes, request size, response headers, CORS."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# gradio's /file= route fetches http(s) URLs server-side and streams them back; this app never
# shows remote files, so the route is no use to it and would make the server a fetch proxy.
_REMOTE_FILE = re.compile(r"/file=\s*[a-z][a-z0-9+.-]*:", re.IGNORECASE)
MAX_API_BODY = 1024 * 1024  # /api/* bodies are a question and a short history


class HardeningMiddleware:
    """Refuses remote-URL file fetches and oversized API bodies; adds protective response headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        raw = scope.get("raw_path") or path.encode()
        decoded = unquote(unquote(raw.decode("latin-1", "replace")))
        if _REMOTE_FILE.search(decoded) or _REMOTE_FILE.search(path):
            await PlainTextResponse("File not allowed.", status_code=403)(scope, receive, send)
            return
        if path.startswith("/api/"):
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None and length.isdigit() and int(length) > MAX_API_BODY:
                await PlainTextResponse("请求过大。", status_code=413)(scope, receive, send)
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                for k, v in ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                             (b"x-frame-options", b"SAMEORIGIN")):
                    if k not in names:
                        headers.append((k, v))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def harden(app: FastAPI) -> None:
    """Install before the gradio apps are mounted (gradio looks at the parent's middleware then)."""
    # Gradio's own CORS layer echoes any Origin back, with credentials allowed, whenever the Host
    # header is not localhost — i.e. as soon as the app sits behind a reverse proxy under a real
    # name. With a CORSMiddleware on the parent app gradio defers to it; this one allows no
    # cross-origin caller at all (the UI is same-origin and needs none).
    app.add_middleware(CORSMiddleware, allow_origins=[], allow_credentials=False)
    app.add_middleware(HardeningMiddleware)
