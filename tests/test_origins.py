"""On a shared deployment a document leaves because its file is gone only on the server that added it:
another server's file paths mean nothing here (made-up county documents, no index needed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from indexing import service
from indexing.service import IngestReport, Parsed
from ingest.discover import expand_paths
from vectorstore import catalog

PLAN = """青禾县数字乡村建设行动方案

一、主要任务
（一）建设益农信息站。到2027年建成村级益农信息站120个。（牵头单位：县农业农村局）
"""
NOTICE = """岚溪县人才驿站服务公告

一、服务对象
来岚溪县创业的高校毕业生，可申请入住人才驿站，免费入住期限最长不超过3个月。
"""
LEGACY = """松岩县冷链物流设施建设行动计划

一、建设任务
（一）建设产地冷藏保鲜设施。到2027年新增产地冷库库容2万吨。（牵头单位：县供销合作社）
"""


def test_a_vanished_file_removes_only_what_this_server_added(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in (("plan.txt", PLAN), ("notice.txt", NOTICE), ("legacy.txt", LEGACY)):
        (docs / name).write_text(text, "utf-8")
    parsed = service.parse_changed(expand_paths([docs]), catalog.Generation(), IngestReport(),
                                   today=dt.date(2026, 11, 22), max_bytes=1 << 20, max_clause_chars=600)
    by_file = {Path(d.source_path).name: d.doc_id for d in parsed.docs.values()}
    here, there = "host-a:/srv/index", "host-b:/srv/index"
    live = catalog.Generation(
        name="g1", docs=parsed.docs, clauses=[c for cl in parsed.clauses.values() for c in cl],
        origins={by_file["plan.txt"]: here, by_file["notice.txt"]: there},  # legacy.txt: no origin recorded
    )
    for f in docs.iterdir():
        f.unlink()  # on this server the folder is now empty

    report = IngestReport()
    kept, clauses, _ = service.diff(live, Parsed(), [docs], report, origin=here)
    assert set(kept) == {by_file["notice.txt"]}  # another server's document stays
    assert sorted(Path(p).name for p in report.removed) == ["legacy.txt", "plan.txt"]
    assert {c.doc_id for c in clauses} == {by_file["notice.txt"]}

    # named for removal, it leaves whoever added it (staff removing a document act on the deployment)
    report = IngestReport()
    kept, _, _ = service.diff(live, Parsed(), [], report, remove_doc_ids=[by_file["notice.txt"]], origin=here)
    assert by_file["notice.txt"] not in kept and [Path(p).name for p in report.removed] == ["notice.txt"]
