"""The pages' HTML shell: Simplified Chinese for every visitor, and the page script.

gradio's page template says lang="en" and its labels follow the browser's language, so a visitor
whose phone or messaging app is set to English would get English buttons around Chinese content.
This middleware rewrites the served page: lang="zh-CN", the browser's language reported to gradio's
i18n as zh-CN (so gradio picks its own Chinese labels), and the page script of assets/page.js.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ASSETS = Path(__file__).resolve().parent / "assets"
LOCALE = "zh-CN"
MAX_PAGE_BYTES = 2 * 1024 * 1024  # the page shell is a few KB; anything larger passes through untouched


@cache
def page_css() -> str:
    return (ASSETS / "page.css").read_text(encoding="utf-8")


@cache
def _head_scripts() -> bytes:
    loc = json.dumps(LOCALE)
    locale = (
        "<script>(() => {const l = " + loc + ";"
        "try { Object.defineProperty(navigator, 'language', {get: () => l, configurable: true});"
        " Object.defineProperty(navigator, 'languages', {get: () => [l], configurable: true}); }"
        " catch (e) { console.warn('policybot: cannot set the page language', e); } })();</script>"
    )
    script = (ASSETS / "page.js").read_text(encoding="utf-8")
    return (locale + "<script>" + script + "</script>").encode("utf-8")


def rewrite_page(html: bytes) -> bytes:
    """The gradio page shell in Chinese, with the page script first in <head>."""
    html = html.replace(b'lang="en"', f'lang="{LOCALE}"'.encode(), 1)
    return html.replace(b"<head>", b"<head>" + _head_scripts(), 1)


class ChinesePageMiddleware:
    """Rewrites the HTML page gradio serves for "/" and "/staff/" (other responses pass through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_page(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if headers.get(b"content-type", b"").startswith(b"text/html") and not headers.get(b"content-encoding"):
                    start = message  # held until the body is complete
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body") and sum(map(len, chunks)) <= MAX_PAGE_BYTES:
                return
            body = b"".join(chunks)
            if not message.get("more_body") and b"<head>" in body:
                body = rewrite_page(body)
            headers = [(k, v) for k, v in start.get("headers") or [] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            more = bool(message.get("more_body"))
            if more:  # too large to be the page shell: pass it on unchanged, as a stream
                headers = [(k, v) for k, v in headers if k != b"content-length"]
            await send({**start, "headers": headers})
            start = None
            await send({"type": "http.response.body", "body": body, "more_body": more})

        await self.app(scope, receive, send_page)
