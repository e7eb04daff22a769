"""Hardening of the web app: file routes, CORS, request limits, log masking, staff login."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from tests.test_app_fixtures import STAFF_PASSWORD, STAFF_USER, LiveApp, shared_live_app

PASSWD_MARK = "root:"
EVIL = "https://evil.example"


@pytest.fixture(scope="session")
def live_app(request: pytest.FixtureRequest, sample_index_dir: Path, settings_factory,
             tmp_path_factory: pytest.TempPathFactory) -> LiveApp:
    return shared_live_app(request, sample_index_dir, settings_factory, tmp_path_factory)


# ---- against the running app --------------------------------------------------------------------

def _probe_paths(app: LiveApp) -> list[str]:
    cat = next((app.index_dir / "generations").glob("*/catalog.json"))
    targets = [str(cat), str(app.index_dir / "feedback.sqlite"), str(app.index_dir / "CURRENT"),
               str(next((app.index_dir / "generations").glob("*/clauses.jsonl")))]
    paths = [
        "/gradio_api/file=/etc/passwd",
        "/file=/etc/passwd",
        "/gradio_api/file=..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/gradio_api/file=%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/gradio_api/file=%2fetc%2fpasswd",
        "/GRADIO_API/FILE=/etc/passwd",
        "/gradio_api/FILE=/etc/passwd",
        "/gradio_api/file/etc/passwd",
        "/staff/gradio_api/file=/etc/passwd",
        "/gradio_api/file=http://127.0.0.1:9/etc/passwd",
        "/gradio_api/file=HTTP%3A//127.0.0.1:9/x",
    ]
    for t in targets:
        paths += [f"/gradio_api/file={t}", f"/file={t}", f"/staff/gradio_api/file={t}",
                  f"/gradio_api/file={t.upper()}"]
    return paths


@pytest.mark.slow
def test_file_routes_do_not_leak_system_or_index_files(live_app: LiveApp) -> None:
    secrets = {
        "passwd": PASSWD_MARK,
        "catalog": '"documents"',
        "sqlite": "SQLite format 3",
        "clauses": '"clause_id"',
    }
    # the feedback DB must exist for the probe to mean something
    httpx.post(live_app.url + "/api/ask", json={"question": "5G基站要建多少个？"}, timeout=60)
    leaks = []
    with httpx.Client(base_url=live_app.url, timeout=30) as client:
        for path in _probe_paths(live_app):
            r = client.get(path)
            if r.status_code == 200 and any(mark in r.text for mark in secrets.values()):
                leaks.append((path, r.status_code))
    assert not leaks


@pytest.mark.slow
def test_only_the_export_dir_is_downloadable(live_app: LiveApp) -> None:
    exports = live_app.state.export_dir  # type: ignore[attr-defined]
    allowed = exports / "probe.csv"
    allowed.write_text("ok,allowed\n", encoding="utf-8")
    beside = Path(exports).parent / "probe-secret.txt"
    beside.write_text("secret-beside-exports\n", encoding="utf-8")
    staff = httpx.Client(base_url=live_app.url)
    assert staff.post("/staff/login", data={"username": STAFF_USER, "password": STAFF_PASSWORD}).status_code == 200
    try:
        assert staff.get(f"/staff/gradio_api/file={allowed}").text == "ok,allowed\n"
        # the public page serves no files at all, exports included
        assert "ok,allowed" not in httpx.get(f"{live_app.url}/gradio_api/file={allowed}").text
        for client, prefix in ((staff, "/staff"), (httpx.Client(base_url=live_app.url), "")):
            r = client.get(f"{prefix}/gradio_api/file={beside}")
            assert "secret-beside-exports" not in r.text
            r = client.get(f"{prefix}/gradio_api/file={exports}/../probe-secret.txt")
            assert "secret-beside-exports" not in r.text
    finally:
        allowed.unlink()
        beside.unlink()


@pytest.mark.slow
@pytest.mark.parametrize("host", [None, "policy.example.gov"])
@pytest.mark.parametrize("path", ["/healthz", "/gradio_api/info", "/config", "/api/documents"])
def test_foreign_origin_is_not_echoed(live_app: LiveApp, host: str | None, path: str) -> None:
    # with a Host other than localhost (as behind a reverse proxy) gradio alone would echo it
    headers = {"Origin": EVIL, **({"Host": host} if host else {})}
    r = httpx.get(live_app.url + path, headers=headers)
    assert r.headers.get("access-control-allow-origin") not in (EVIL, "*")
    pre = httpx.options(live_app.url + "/api/ask", headers={
        **headers, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert pre.headers.get("access-control-allow-origin") not in (EVIL, "*")


@pytest.mark.slow
def test_long_question_refused_with_clear_message(live_app: LiveApp) -> None:
    from gradio_client import Client

    q = "政" * 100_000
    r = httpx.post(live_app.url + "/api/ask", json={"question": q, "history": []}, timeout=30)
    assert r.status_code == 413
    assert "问题过长" in r.json()["detail"]
    _, chat = Client(live_app.url + "/", verbose=False).predict(q, [], api_name="/ask")
    assert "问题过长" in "".join(p["text"] for p in chat[-1]["content"])


@pytest.mark.slow
def test_oversized_api_body_refused(live_app: LiveApp) -> None:
    r = httpx.post(live_app.url + "/api/ask", content=b'{"question": "' + b"a" * 2_000_000 + b'"}',
                   headers={"content-type": "application/json"}, timeout=30)
    assert r.status_code == 413


@pytest.mark.slow
def test_staff_api_refused_without_login(live_app: LiveApp) -> None:
    for path in ("/staff/config", "/staff/gradio_api/info"):
        r = httpx.get(live_app.url + path)
        assert r.status_code in (401, 403), path
    r = httpx.post(live_app.url + "/staff/gradio_api/call/search", json={"data": ["无废奉节"]})
    assert r.status_code in (401, 403)


@pytest.mark.slow
def test_protective_headers(live_app: LiveApp) -> None:
    r = httpx.get(live_app.url + "/")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "server" not in r.headers or "uvicorn" not in r.headers["server"].lower()


@pytest.mark.slow
def test_questions_are_masked_in_the_log(live_app: LiveApp, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="webapp.state"):
        httpx.post(live_app.url + "/api/ask", json={
            "question": "我电话13812345678，身份证500101199001011234，5G基站要建多少个？"}, timeout=60)
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "webapp.state")
    assert "5G基站" in logged
    assert "13812345678" not in logged and "500101199001011234" not in logged
