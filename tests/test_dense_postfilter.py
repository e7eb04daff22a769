"""Filtered dense search without Chroma's metadata filter: an unfiltered search for more hits, kept by the
filter's mask, must return exactly the filtered top n — the same as Chroma's filtered query and as a
brute-force scan of the allowed clauses' vectors. Real Chroma and the real embedder, on made-up counties'
documents (no region the gazetteer knows, so they share one partition)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from core.retrieval import Filters
from vectorstore.search import PolicyIndex

pytestmark = pytest.mark.slow

DOCS = {
    "qinghe-rural.txt": """青禾县数字乡村建设行动方案

一、主要任务
（一）建设益农信息站。到2027年建成村级益农信息站120个，实现行政村全覆盖。（牵头单位：县农业农村局）
（二）培育农村电商。对年网络零售额首次突破500万元的农村电商企业，一次性奖励3万元。（牵头单位：县商务委员会）
（三）推进智慧农机。购置北斗导航自动驾驶农机的，按购置价的20%给予补贴。（牵头单位：县农业农村局）
（四）建设农产品溯源平台。2026年底前实现主要农产品生产过程可追溯。（牵头单位：县市场监管局）
二、保障措施
（一）加强资金保障。县财政每年安排数字乡村专项资金500万元。（牵头单位：县财政局）
""",
    "lanxi-tourism.txt": """岚溪县文旅融合发展实施方案

一、重点任务
（一）打造精品民宿集群。对新评定的甲级旅游民宿给予一次性补助10万元。（牵头单位：县文化旅游委）
（二）推出研学旅行线路。到2026年推出研学旅行精品线路8条。（牵头单位：县教育委员会）
（三）举办山地音乐节。每年举办山地音乐节1届，吸引游客10万人次。（牵头单位：县文化旅游委）
（四）改造景区厕所。2027年前完成A级景区旅游厕所提档升级40座。（牵头单位：县城市管理局）
""",
    "songyan-coldchain.txt": """松岩县冷链物流设施建设行动计划

一、建设任务
（一）建设产地冷藏保鲜设施。到2027年新增产地冷库库容2万吨。（牵头单位：县供销合作社）
（二）完善冷链配送网络。支持企业购置冷藏配送车辆，每辆补助2万元。（牵头单位：县交通运输局）
（三）建设冷链物流园区。规划建设冷链物流园区1个，占地200亩。（牵头单位：县发展改革委）
""",
    "baishi-loans.txt": """白石县支持中小微企业融资实施办法（征求意见稿）

一、支持措施
（一）首贷贴息。对首次获得银行贷款的小微企业，按贷款利息的50%给予贴息。（牵头单位：县金融服务中心）
（二）应急转贷。设立应急转贷资金池，规模不低于5000万元。（牵头单位：县国有资产管理中心）
（三）融资担保降费。政府性融资担保机构担保费率降至1%以下。（牵头单位：县财政局）
（四）知识产权质押。对知识产权质押融资给予评估费补助，每户最高5万元。（牵头单位：县市场监管局）
""",
    "yunlin-talent.txt": """云林县高层次人才引进办法

一、支持政策
（一）安家补贴。全职引进的博士研究生，给予安家补贴20万元。（牵头单位：县人力社保局）
（二）人才公寓。为引进人才提供人才公寓，免租金3年。（牵头单位：县住房城乡建设委）
（三）子女入学。引进人才子女就读义务教育阶段学校的，由教育部门统筹安排。（牵头单位：县教育委员会）
""",
}
QUERIES = ("冷库建设补助", "民宿奖励多少钱", "贷款贴息比例", "博士安家补贴", "农村电商奖励", "音乐节游客人数",
           "融资担保费率", "研学旅行线路", "智慧农机补贴")


@pytest.fixture(scope="module")
def made_up_index(tmp_path_factory: pytest.TempPathFactory, settings_factory) -> PolicyIndex:
    from policybot.wiring import ingest_paths, open_index

    root = tmp_path_factory.mktemp("postfilter")
    docs = root / "docs"
    docs.mkdir()
    for name, text in DOCS.items():
        (docs / name).write_text(text, "utf-8")
    settings = settings_factory(root / "index")
    report = ingest_paths([docs], settings=settings)
    assert not report.failed, report.failed
    return open_index(settings)


def _doc(index: PolicyIndex, file_name: str) -> str:
    return next(d.doc_id for d in index.docs.values() if d.source_file == file_name)


def _exact(index: PolicyIndex, query: str, mask: np.ndarray, n: int) -> list[str]:
    """The filtered top n by brute force over the allowed clauses' stored vectors."""
    allowed = [c.clause_id for c, ok in zip(index.clauses, mask, strict=True) if ok]
    vecs = index.store.vectors(allowed)
    matrix = np.vstack([vecs[i] for i in allowed])
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    q = index.embeddings.embed_query_vec(query)
    sims = matrix @ (q / np.linalg.norm(q))
    return [allowed[j] for j in np.argsort(-sims)[:n]]


class _Spy:
    """Every query the store receives: (n, where)."""

    def __init__(self, index: PolicyIndex, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[int, Any]] = []
        store = index.store
        real = store.query

        def query(vector: np.ndarray, *, n: int, where: Any, partitions: list[str] | None = None) -> Any:
            self.calls.append((n, where))
            return real(vector, n=n, where=where, partitions=partitions)

        monkeypatch.setattr(store, "query", query)


def _dense_ids(index: PolicyIndex, query: str, f: Filters, k: int = 50) -> list[str]:
    return [h.clause.clause_id for h in index.search(query, k=k, filters=f, mode="dense").hits]


@pytest.mark.parametrize("max_partitions", [8, 0], ids=["partition", "whole-collection"])
def test_post_filter_returns_exactly_the_filtered_top_n(
    made_up_index: PolicyIndex, monkeypatch: pytest.MonkeyPatch, max_partitions: int
) -> None:
    index = made_up_index
    monkeypatch.setattr(index.tuning, "max_partitions", max_partitions)
    tourism, loans, rural = (_doc(index, f) for f in ("lanxi-tourism.txt", "baishi-loans.txt", "qinghe-rural.txt"))
    filters = [Filters(doc_ids=[tourism]), Filters(doc_ids=[loans, rural]), Filters(doc_ids=[tourism, loans, rural])]
    spy = _Spy(index, monkeypatch)
    limit = index.tuning.postfilter_max_k
    for f in filters:
        mask = index.mask(f)
        assert mask is not None and 0 < mask.sum() < len(index.clauses)
        for q in QUERIES:
            spy.calls.clear()
            post = _dense_ids(index, q, f)
            assert spy.calls and all(where is None for _, where in spy.calls), "Chroma's filter was not needed"
            spy.calls.clear()
            monkeypatch.setattr(index.tuning, "postfilter_max_k", 0)  # Chroma's filtered query answers
            filtered = _dense_ids(index, q, f)
            monkeypatch.setattr(index.tuning, "postfilter_max_k", limit)
            assert spy.calls and all(where is not None for _, where in spy.calls)
            assert post == filtered == _exact(index, q, mask, 50), (q, f)
            assert len(post) == int(mask.sum())


def test_too_few_survivors_asks_again_with_a_larger_k(
    made_up_index: PolicyIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question far from the filtered document: its first unfiltered hits hold too few of that document's
    clauses, so the search asks again for more, and still returns the exact filtered top n."""
    index = made_up_index
    monkeypatch.setattr(index.tuning, "pool", 3)
    monkeypatch.setattr(index.tuning, "postfilter_margin", 1.0)
    f = Filters(doc_ids=[_doc(index, "yunlin-talent.txt")])
    mask = index.mask(f)
    region = index.docs[f.doc_ids[0]].region
    searched = sum(1 for c in index.clauses if index.docs[c.doc_id].region == region)  # its partition
    spy = _Spy(index, monkeypatch)
    got = _dense_ids(index, "冷链物流园区占地面积", f, k=3)
    assert len(spy.calls) >= 2, spy.calls
    first, then = spy.calls[0][0], spy.calls[1][0]
    assert first == -(-3 * searched // int(mask.sum())) and then > first
    assert all(where is None for _, where in spy.calls)
    assert got == _exact(index, "冷链物流园区占地面积", mask, 3)


def test_a_filter_keeping_too_small_a_share_goes_to_chroma_s_filter(
    made_up_index: PolicyIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = made_up_index
    f = Filters(doc_ids=[_doc(index, "songyan-coldchain.txt")])
    mask = index.mask(f)
    share = mask.sum() / len(index.clauses)
    monkeypatch.setattr(index.tuning, "max_partitions", 0)
    monkeypatch.setattr(index.tuning, "pool", 5)
    monkeypatch.setattr(index.tuning, "postfilter_max_k", int(5 / share))  # below 5 / share × margin
    spy = _Spy(index, monkeypatch)
    got = _dense_ids(index, "冷库建设补助", f, k=5)
    assert spy.calls == [(5, {"doc_id": {"$in": f.doc_ids}})]
    assert got == _exact(index, "冷库建设补助", mask, 5)


def test_a_status_filter_chroma_cannot_apply_still_returns_n_hits(
    made_up_index: PolicyIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Status depends on today, so Chroma never filters on it: the mask keeps the n nearest in force, not
    whatever of the unfiltered n happened to be in force."""
    index = made_up_index
    monkeypatch.setattr(index.tuning, "pool", 10)
    f = Filters(statuses=["effective"])
    mask = index.mask(f)
    assert mask is not None and 10 <= mask.sum() < len(index.clauses)
    for q in QUERIES:
        got = _dense_ids(index, q, f, k=10)
        assert got == _exact(index, q, mask, 10), q
