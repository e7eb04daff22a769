"""The chat page in a real browser: headless Chromium driven over the DevTools protocol.

No browser-automation package is needed: Chromium's --remote-debugging-port speaks JSON over a
websocket, and `websockets` is already installed (gradio_client depends on it).
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.procs import stop
from tests.test_app_fixtures import LiveApp, shared_live_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
QUESTION = "奉节县“无废奉节”信息化平台由哪个单位牵头、什么时候完成？"


@pytest.fixture(scope="session")
def live_app(request: pytest.FixtureRequest, sample_index_dir: Path, settings_factory,
             tmp_path_factory: pytest.TempPathFactory) -> LiveApp:
    return shared_live_app(request, sample_index_dir, settings_factory, tmp_path_factory)


class Page:
    """Just enough of the DevTools protocol: send a command, wait for its reply, evaluate JS."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    def cmd(self, method: str, **params: Any) -> dict[str, Any]:
        i = next(self._ids)
        self.ws.send(json.dumps({"id": i, "method": method, "params": params}))
        while True:  # events arriving meanwhile are not needed here
            msg = json.loads(self.ws.recv(timeout=30))
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def js(self, expression: str) -> Any:
        res = self.cmd("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"JS error: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.js(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for: {expression}")

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.cmd("Page.captureScreenshot", format="png")["data"]))


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    if not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM} (Debian: apt-get install -y chromium)"
        print(reason)
        pytest.skip(reason)
    connect = pytest.importorskip("websockets.sync.client", reason="websockets is not installed").connect

    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=tmp_path))
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps",
         "--disable-extensions", f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", "--window-size=1280,1000", "--lang=zh-CN", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        # port 0: Chromium picks a free port and writes it to DevToolsActivePort in the profile
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            targets = json.load(r)
        target = next(t for t in targets if t["type"] == "page")
        with connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=10) as ws:
            p = Page(ws)
            p.cmd("Page.enable")
            p.cmd("Runtime.enable")
            yield p
    finally:
        stop(proc, timeout=10)


def test_chat_in_browser_shows_answer_and_citation_card(live_app: LiveApp, page: Page) -> None:
    page.cmd("Page.navigate", url=live_app.url + "/")
    page.wait_for("!!document.querySelector('#question textarea')")
    page.js("document.querySelector('#question textarea').focus()")
    page.cmd("Input.insertText", text=QUESTION)
    page.wait_for(f"document.querySelector('#question textarea').value === {json.dumps(QUESTION)}")
    for kind in ("keyDown", "keyUp"):
        page.cmd("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter", windowsVirtualKeyCode=13,
                 text="\r" if kind == "keyDown" else "")

    page.wait_for("document.querySelectorAll('#chat .citation-card').length > 0"
                  " && !document.querySelector('#chat .pb-streaming')", timeout=60)
    card = page.js("""(() => {
        const c = document.querySelector('#chat .citation-card');
        const r = c.getBoundingClientRect(), s = getComputedStyle(c);
        return {w: r.width, h: r.height, visibility: s.visibility, display: s.display, text: c.innerText};
    })()""")
    assert card["w"] > 100 and card["h"] > 30
    assert card["visibility"] == "visible" and card["display"] != "none"
    assert "奉节县“科技创新赋能”工程实施方案" in card["text"]
    bot_text = page.js("[...document.querySelectorAll('#chat [data-testid=bot]')].pop().innerText")
    assert "县生态环境局" in bot_text and "⚠" in bot_text
    assert page.js("document.querySelector('#question textarea').value") == ""

    # the full clause opens from the card
    page.js("document.querySelector('#chat .citation-card summary').click()")
    page.wait_for("document.querySelector('#chat .citation-card details').open")
    assert "奉节县人民政府办公室" in page.js("document.querySelector('#chat .citation-card details').innerText")
    page.js("document.querySelector('#chat .citation-card summary').click()")  # closed again for the picture
    page.js("document.querySelector('#chat [data-testid=user]').scrollIntoView({block: 'start'})")
    time.sleep(0.3)
    page.screenshot(ARTIFACTS / "chat.png")
    assert (ARTIFACTS / "chat.png").stat().st_size > 10_000
