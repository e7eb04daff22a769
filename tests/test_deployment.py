"""Two app servers, one deployment: real `chroma run`, two real `policybot serve` processes with index
folders of their own and the same POLICYBOT_DEPLOYMENT. Whatever is uploaded on either is answered by
both; uploads on both at once lose nothing; with Chroma stopped both answer from BM25 with a warning."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.procs import AppProcess, chroma_process, running_app, wait_for_heartbeat
from vectorstore.search import DENSE_DOWN_WARNING

pytestmark = [pytest.mark.slow, pytest.mark.chroma_server]

# made-up counties' documents: (file name, text, question, the unit the answer must name)
DOCS = [
    ("qinghe-rural.txt", """青禾县数字乡村建设行动方案

一、主要任务
（一）建设益农信息站。到2027年建成村级益农信息站120个，实现行政村全覆盖。（牵头单位：县农业农村局；责任单位：各乡镇人民政府）
（二）培育农村电商。对年网络零售额首次突破500万元的农村电商企业，一次性奖励3万元。（牵头单位：县商务委员会）
""", "益农信息站建设由哪个单位牵头？", "县农业农村局"),
    ("lanxi-tourism.txt", """岚溪县文旅融合发展实施方案

一、重点任务
（一）打造精品民宿集群。对新评定的甲级旅游民宿给予一次性补助10万元。（牵头单位：县文化旅游委；责任单位：县财政局）
（二）推出研学旅行线路。到2026年推出研学旅行精品线路8条。（牵头单位：县教育委员会）
""", "精品民宿集群由哪个单位牵头？", "县文化旅游委"),
    ("songyan-coldchain.txt", """松岩县冷链物流设施建设行动计划

一、建设任务
（一）建设产地冷藏保鲜设施。到2027年新增产地冷库库容2万吨。（牵头单位：县供销合作社；责任单位：县农业农村局）
（二）完善冷链配送网络。支持企业购置冷藏配送车辆，每辆补助2万元。（牵头单位：县交通运输局）
""", "产地冷藏保鲜设施由哪个单位牵头？", "县供销合作社"),
    ("baishi-loans.txt", """白石县支持中小微企业融资实施办法

一、支持措施
（一）首贷贴息。对首次获得银行贷款的小微企业，按贷款利息的50%给予贴息。（牵头单位：县金融服务中心；责任单位：县财政局）
（二）应急转贷。设立应急转贷资金池，规模不低于5000万元。（牵头单位：县国有资产管理中心）
""", "首贷贴息由哪个单位牵头？", "县金融服务中心"),
]
# asked first while the Chroma server is down; answered from DOCS[2]
OUTAGE_QUESTION = "新增产地冷库库容的工作由哪个单位牵头？"


def upload(app: AppProcess, path: Path) -> str:
    from gradio_client import Client, handle_file

    return str(Client(app.url + "/staff/", verbose=False).predict(handle_file(str(path)), api_name="/upload"))


def ask(app: AppProcess, question: str) -> dict[str, Any]:
    r = httpx.post(app.url + "/api/ask", json={"question": question}, timeout=60)
    r.raise_for_status()
    return r.json()


def eventually(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Another server sees a new generation within seconds (it refreshes its cache in the background)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout}s: {what}")
        time.sleep(0.5)


def answers(app: AppProcess, doc: int) -> bool:
    _, _, question, unit = DOCS[doc]
    ans = ask(app, question)
    return unit in ans["answer"] and not ans["refused"]


def titles(app: AppProcess) -> set[str]:
    return {d["title"] for d in httpx.get(app.url + "/api/documents", timeout=30).json()}


def test_two_app_servers_share_one_deployment(tmp_path: Path) -> None:
    files = []
    for name, text, _, _ in DOCS:
        f = tmp_path / name
        f.write_text(text, "utf-8")
        files.append(f)
    all_titles = {text.splitlines()[0] for _, text, _, _ in DOCS}

    with chroma_process(tmp_path) as chroma:
        env = {
            "POLICYBOT_CHROMA_HOST": "127.0.0.1",
            "POLICYBOT_CHROMA_PORT": str(chroma.port),
            "POLICYBOT_DEPLOYMENT": "county-desk",
            "POLICYBOT_DEPLOY__RETRY_AFTER_S": "1",
        }
        with (
            running_app(tmp_path / "index-a", tmp_path / "a.log", env) as a,
            running_app(tmp_path / "index-b", tmp_path / "b.log", env) as b,
        ):
            # uploaded on A, answered by B; uploaded on B, answered by A
            assert "已入库" in upload(a, files[0])
            eventually(lambda: answers(b, 0), "B answers from the document uploaded on A")
            assert "已入库" in upload(b, files[1])
            eventually(lambda: answers(a, 1), "A answers from the document uploaded on B")
            assert answers(a, 0) and answers(b, 1)

            # uploads on both at once: one server waits for the other's lock, neither loses a document
            results: dict[str, str] = {}
            threads = [
                threading.Thread(target=lambda: results.__setitem__("a", upload(a, files[2]))),
                threading.Thread(target=lambda: results.__setitem__("b", upload(b, files[3]))),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=300)
            assert "已入库" in results["a"] and "已入库" in results["b"], results
            for app in (a, b):
                eventually(lambda app=app: titles(app) == all_titles, f"{app.url} lists all four documents")
                for doc in range(len(DOCS)):
                    assert answers(app, doc), (app.url, DOCS[doc][2])
            for app in (a, b):
                health = httpx.get(app.url + "/healthz").json()
                assert health["status"] == "ok" and health["dense"] == "ok", health
                assert health["documents"] == 4 and health["deployment"] == "county-desk"
            # each index folder holds only a cache: the vectors and the catalog are on the server
            assert not (tmp_path / "index-a" / "chroma").exists() and not (tmp_path / "index-b" / "chroma").exists()

            # Chroma stops: answers go on from BM25 alone, with a warning, and no traceback anywhere
            chroma.stop()
            asked_before = ask(a, DOCS[2][2])  # an answer found with dense search earlier stays as it was
            assert DOCS[2][3] in asked_before["answer"] and DENSE_DOWN_WARNING not in asked_before["warnings"]
            for app in (a, b):
                for _ in range(2):  # an answer found by BM25 alone is not kept: asked again, it is searched again
                    ans = ask(app, OUTAGE_QUESTION)
                    assert DOCS[2][3] in ans["answer"], ans
                    assert DENSE_DOWN_WARNING in ans["warnings"]
                health = httpx.get(app.url + "/healthz").json()
                assert health["status"] == "degraded" and health["dense"] == "unavailable"
                assert f"127.0.0.1:{chroma.port}" in health["detail"]
            for app in (a, b):
                out = app.output()
                assert "Traceback" not in out, out[-3000:]
                lines = [ln for ln in out.splitlines() if f"127.0.0.1:{chroma.port}" in ln]
                assert lines and "BM25" in lines[0], out[-2000:]

            # Chroma is back (same data, same port): dense search resumes by itself
            restarted = chroma.restart()
            wait_for_heartbeat(chroma.port, restarted, tmp_path / "chroma-server.log")
            time.sleep(1.5)  # past the retry delay
            for app in (a, b):
                eventually(lambda app=app: DENSE_DOWN_WARNING not in ask(app, OUTAGE_QUESTION)["warnings"],
                           f"{app.url} uses dense search again")
                assert httpx.get(app.url + "/healthz").json()["status"] == "ok"
