"""Findings 3, 4, 10 and 11 through the real `policybot ingest` command: a careless operator's batch
never empties the index, one bad file never costs the rest, an archive bomb is refused at once, and
a batch of non-documents is called out. After each probe the index answers the sample questions as
before."""

from __future__ import annotations

import io
import os
import random
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.security.conftest import still_answers
from tests.security.live import cli, ingest_json

pytestmark = pytest.mark.slow


def _doc_files(index: Path) -> set[str]:
    import json

    done = cli("docs", "--json", "--index", str(index))
    return {d["source_file"] for d in json.loads(done.stdout)}


# ---- finding 3: an empty or missing source folder wipes the index -----------------------------------
def test_missing_source_folder_removes_nothing(cli_corpus: dict[str, Any], sample_answers) -> None:
    src, index = cli_corpus["src"], cli_corpus["index"]
    before = _doc_files(index)
    shutil.move(src, src.with_name("moved-away"))  # an unmounted share, a renamed folder
    code, out = ingest_json(str(src), "--index", str(index))
    assert code == 1
    assert out["removed"] == [] and out["documents"] == len(before)
    assert [e["path"] for e in out["errors"]] == [str(src)] and "not found" in out["errors"][0]["reason"]
    assert _doc_files(index) == before
    still_answers(index, sample_answers)


def test_empty_source_folder_removes_nothing(cli_corpus: dict[str, Any], sample_answers) -> None:
    src, index = cli_corpus["src"], cli_corpus["index"]
    before = _doc_files(index)
    for f in src.iterdir():
        f.unlink()
    (src / "README.md").write_text("这个文件夹放政策文件。\n", encoding="utf-8")  # not a policy file
    code, out = ingest_json(str(src), "--index", str(index))
    assert code == 1
    assert out["removed"] == [] and out["documents"] == len(before)
    assert "no readable policy file" in out["errors"][0]["reason"]
    assert _doc_files(index) == before
    still_answers(index, sample_answers)


def test_vanished_file_is_removed_and_reported_and_remove_is_explicit(cli_corpus: dict[str, Any],
                                                                       sample_answers) -> None:
    src, index = cli_corpus["src"], cli_corpus["index"]
    before = _doc_files(index)
    extra = src / "青岚县数字乡村建设实施方案.txt"
    extra.write_text("青岚县数字乡村建设实施方案\n\n一、主要任务\n（一）建设数字乡村服务平台。建设全县统一的数字乡村服务平台，"
                     "汇集农业生产、乡村治理和便民服务数据。（牵头单位：县农业农村委；责任单位：县大数据局）\n"
                     "（二）完善乡村宽带网络。到2027年底，行政村千兆光网通达率达到95%。\n", encoding="utf-8")
    code, out = ingest_json(str(src), "--index", str(index))
    assert code == 0 and [Path(p).name for p in out["added"]] == [extra.name]

    # a file that vanished from a folder that still exists: its document leaves, and the summary says so
    extra.unlink()
    done = cli("ingest", str(src), "--index", str(index), "--quiet")
    assert done.returncode == 0
    assert f"已移除：{extra}" in done.stdout
    assert _doc_files(index) == before

    # removing is also an operation of its own, by file name, 文号, doc_id or title
    some = sorted(before)[0]
    done = cli("remove", some, "--index", str(index))
    assert done.returncode == 0 and "已移除" in done.stdout, done.stderr
    assert _doc_files(index) == before - {some}
    # a name that matches several documents removes none of them
    done = cli("remove", "实施方案", "--index", str(index))
    assert done.returncode == 2 and "--all" in done.stderr
    assert _doc_files(index) == before - {some}
    # the file is still there: ingesting its folder brings it back, the answers with it
    code, out = ingest_json(str(src), "--index", str(index))
    assert code == 0 and [Path(p).name for p in out["added"]] == [some]
    still_answers(index, sample_answers)


# ---- finding 4: one bad file name aborts the whole batch --------------------------------------------
def test_undecodable_file_name_is_rejected_alone(cli_corpus: dict[str, Any], sample_answers) -> None:
    src, index = cli_corpus["src"], cli_corpus["index"]
    batch = src.parent / "batch"
    batch.mkdir()
    good = batch / "青岚县农产品电商扶持办法.txt"
    good.write_text("青岚县农产品电商扶持办法\n\n一、扶持对象\n在本县注册的农产品电商企业。\n\n二、扶持标准\n"
                    "年网络销售额首次超过500万元的，给予一次性奖励8万元。\n", encoding="utf-8")
    # a zip made on a Chinese Windows PC keeps GBK bytes in its names; unpacked here they are not UTF-8
    bad_name = os.fsencode(batch) + b"/" + "青岚县物流补贴办法.txt".encode("gbk")
    with open(bad_name, "wb") as f:
        f.write("青岚县物流补贴办法\n\n一、补贴标准\n每单补贴0.5元。\n".encode())
    code, out = ingest_json(str(batch), "--index", str(index))
    assert code == 0, out
    assert [Path(p).name for p in out["added"]] == [good.name]
    assert len(out["failed"]) == 1
    failed = out["failed"][0]
    assert "not valid UTF-8" in failed["reason"] and "青岚县物流补贴办法.txt" in failed["reason"]
    assert "\\x" in failed["path"]  # the name as its bytes, printable
    assert good.name in _doc_files(index)
    still_answers(index, sample_answers)


# ---- finding 10: a small .docx that unpacks to gigabytes ---------------------------------------------
def _swollen_docx(path: Path, xml_mb: int) -> Path:
    """A valid .docx whose document.xml is xml_mb MB of ordinary-looking paragraphs (about 4:1 deflate)."""
    import docx

    d = docx.Document()
    d.add_paragraph("x")
    buf = io.BytesIO()
    d.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    xml = src.read("word/document.xml").decode()
    at = xml.index("<w:body>") + len("<w:body>")
    rng = random.Random(7)
    words = "政策文件条款企业奖励补贴资金申请条件万元年月日县区市"
    paragraph = "<w:p><w:r><w:t>{}</w:t></w:r></w:p>"
    chunks, size = [], 0
    while size < xml_mb * 1024 * 1024:
        p = paragraph.format("".join(rng.choice(words) for _ in range(60)))
        chunks.append(p)
        size += len(p.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = xml[:at] + "".join(chunks) + xml[at:] if info.filename == "word/document.xml" else src.read(info)
            z.writestr(info.filename, data)
    return path


def test_docx_that_unpacks_past_the_member_cap_is_refused_at_once(cli_corpus: dict[str, Any],
                                                                   sample_answers) -> None:
    src, index = cli_corpus["src"], cli_corpus["index"]
    bomb = _swollen_docx(src.parent / "青岚县汇编.docx", 48)
    assert bomb.stat().st_size < 50 * 1024 * 1024  # under the file size cap
    start = time.monotonic()
    code, out = ingest_json(str(bomb), "--index", str(index), timeout=120)
    assert code == 1
    elapsed = time.monotonic() - start
    assert out["failed"] and "word/document.xml" in out["failed"][0]["reason"], out
    assert "per member" in out["failed"][0]["reason"]
    assert elapsed < 60, f"refusing took {elapsed:.0f} s"
    still_answers(index, sample_answers)


# ---- finding 11: 2,000 one-line files become 2,000 "policy documents" without a warning -------------
def test_batch_of_one_line_files_is_warned_about(cli_corpus: dict[str, Any], sample_answers) -> None:
    src, index = cli_corpus["src"], cli_corpus["index"]
    junk = src.parent / "export"
    junk.mkdir()
    for i in range(40):  # the same shape as 2,000, at a size a test can embed
        (junk / f"row-{i:04d}.txt").write_text(f"订单{i}：已发货\n", encoding="utf-8")
    code, out = ingest_json(str(junk), "--index", str(index))
    assert code == 0
    assert len(out["warnings"]) == 1 and "40 of 40 files" in out["warnings"][0], out["warnings"]
    # real documents in a batch of their own are not warned about
    code, out = ingest_json(str(src), "--index", str(index))
    assert out["warnings"] == []
    done = cli("remove", "--all", "订单", "--index", str(index))
    assert done.returncode == 0, done.stderr
    still_answers(index, sample_answers)
