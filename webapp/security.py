"""HTTP hardening around the gradio apps: file routes, request bodies, uploads, logins, headers, CORS."""

from __future__ import annotations

import logging
import re
import time
from urllib.parse import parse_qs, unquote, unquote_to_bytes

from fastapi import FastAPI
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.privacy import for_log
from core.settings import LoginTuning

log = logging.getLogger(__name__)

# gradio's /file= route fetches http(s) URLs server-side and streams them back; this app never
# shows remote files, so the route is no use to it and would make the server a fetch proxy.
_REMOTE_FILE = re.compile(r"/file=\s*[a-z][a-z0-9+.-]*:", re.IGNORECASE)
MAX_API_BODY = 1024 * 1024  # /api/* bodies are a question and a short history
# gradio event bodies carry the chat shown so far (its HTML included): a long conversation is a few
# hundred KB. Uploads have their own cap (POLICYBOT_MAX_UPLOAD_MB), logins a tiny one.
MAX_EVENT_BODY = 8 * 1024 * 1024
MAX_LOGIN_BODY = 16 * 1024
STAFF_PREFIX = "/staff"
# routes through which gradio takes files; the public page has no file input, so it takes none
_UPLOAD = re.compile(r"^/gradio_api/(upload|process_recording|stream/)", re.IGNORECASE)
_LOGIN = re.compile(r"^/staff/login/?$")


class BodyTooLarge(Exception):
    """Raised from receive() once a request body passes its cap, however it is sent (chunked or not)."""


def body_cap(path: str, *, upload_bytes: int) -> int:
    if path.startswith("/api/") or path == "/healthz":
        return MAX_API_BODY
    if _LOGIN.match(path):
        return MAX_LOGIN_BODY
    if path.startswith(STAFF_PREFIX) and _UPLOAD.match(path[len(STAFF_PREFIX):]):
        return upload_bytes + 64 * 1024  # the file and its multipart framing
    return MAX_EVENT_BODY


def _too_large() -> PlainTextResponse:
    return PlainTextResponse("请求过大。/ Request body too large.", status_code=413)


class HardeningMiddleware:
    """Refuses remote-URL file fetches, uploads to the public page and oversized bodies (declared or
    streamed); adds protective response headers."""

    def __init__(self, app: ASGIApp, *, upload_bytes: int = 20 * 1024 * 1024) -> None:
        self.app = app
        self.upload_bytes = upload_bytes

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
        if _UPLOAD.match(path):
            log.warning("upload to the public page refused (%s from %s)", path, _client(scope))
            await PlainTextResponse("此页面不接受上传。/ This page takes no uploads.", status_code=403)(
                scope, receive, send)
            return
        if path.startswith("/api/") and not _decodable(scope.get("query_string", b"")):
            # the framework would read invalid UTF-8 as U+FFFD and search for that
            await JSONResponse({"detail": "请求中含有无法识别的字符。/ The query is not valid UTF-8."},
                               status_code=400)(scope, receive, send)
            return
        cap = body_cap(path, upload_bytes=self.upload_bytes)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > cap:
            await _too_large()(scope, receive, send)
            return

        seen = 0
        overflow = False
        started = False

        async def capped_receive() -> Message:
            nonlocal seen, overflow
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    overflow = True
                    raise BodyTooLarge(path)
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if overflow:  # whatever the app made of the cut-off body, the answer is 413
                if not started:
                    started = True
                    await _too_large()(scope, _no_body, send)
                return
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                for k, v in ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                             (b"x-frame-options", b"SAMEORIGIN")):
                    if k not in names:
                        headers.append((k, v))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, capped_receive, send_with_headers)
        except BodyTooLarge:
            if not started:
                await _too_large()(scope, _no_body, send)


def _decodable(query: bytes) -> bool:
    try:
        unquote_to_bytes(query.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class LoginThrottle:
    """Failed staff logins are counted per address and per user name; past the allowance an attempt
    is answered 429 with Retry-After before the password is even compared.

    The allowance is a set of moving windows (settings.login): the longer windows make repeated
    guessing wait longer and longer. A successful login clears the user's count. Behind a reverse
    proxy every request comes from the proxy's address: the per-user limit still holds.
    """

    def __init__(self, app: ASGIApp, *, tuning: LoginTuning | None = None) -> None:
        self.app = app
        tuning = tuning or LoginTuning()
        self.per_user: list[RateLimitItem] = parse_many(tuning.per_user)
        self.per_address: list[RateLimitItem] = parse_many(tuning.per_address)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def _wait(self, items: list[RateLimitItem], *key: str) -> float:
        """Seconds until the next attempt is allowed (0: allowed now)."""
        wait = 0.0
        for item in items:
            if not self.limiter.test(item, *key):
                reset = self.limiter.get_window_stats(item, *key).reset_time
                wait = max(wait, reset - time.time())
        return wait

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or not _LOGIN.match(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_LOGIN_BODY:
                await _too_large()(scope, _no_body, send)
                return
        user = await _form_user(scope, body)
        address = _client(scope)
        wait = max(self._wait(self.per_address, "login-address", address),
                   self._wait(self.per_user, "login-user", user))
        if wait > 0:
            log.warning("staff login throttled: user %r from %s, retry in %.0f s", for_log(user, 40), address, wait)
            seconds = str(max(1, round(wait)))
            await JSONResponse({"detail": f"登录失败次数过多，请 {seconds} 秒后再试。"}, status_code=429,
                               headers={"Retry-After": seconds})(scope, _no_body, send)
            return
        status = 0
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # a disconnect, if the client goes away
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, replay, watch)
        if status == 200:
            for item in self.per_user:
                self.limiter.clear(item, "login-user", user)
        elif 400 <= status < 500:
            log.warning("staff login failed: user %r from %s", for_log(user, 40), address)
            for item in self.per_address:
                self.limiter.hit(item, "login-address", address)
            for item in self.per_user:
                self.limiter.hit(item, "login-user", user)


async def _form_user(scope: Scope, body: bytes) -> str:
    """The user name of a login form, url-encoded or multipart ('' when there is none)."""
    ctype = dict(scope.get("headers") or []).get(b"content-type", b"").decode("latin-1").lower()
    if ctype.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("utf-8", "replace")).get("username") or [""]
        return values[0].strip()

    async def once() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, once).form()
    except (ValueError, AssertionError):  # a malformed form: gradio refuses it; count it under no name
        return ""
    value = form.get("username")
    return value.strip() if isinstance(value, str) else ""


def harden(app: FastAPI, *, upload_bytes: int, login: LoginTuning | None = None) -> None:
    """Install before the gradio apps are mounted (gradio looks at the parent's middleware then)."""
    # Gradio's own CORS layer echoes any Origin back, with credentials allowed, whenever the Host
    # header is not localhost — i.e. as soon as the app sits behind a reverse proxy under a real
    # name. With a CORSMiddleware on the parent app gradio defers to it; this one allows no
    # cross-origin caller at all (the UI is same-origin and needs none).
    app.add_middleware(CORSMiddleware, allow_origins=[], allow_credentials=False)
    app.add_middleware(LoginThrottle, tuning=login)
    app.add_middleware(HardeningMiddleware, upload_bytes=upload_bytes)
