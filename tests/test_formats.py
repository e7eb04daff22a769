"""Every format an office publishes, read to the clauses and fields its text gives.

PDFs (hard-wrapped, with page numbers, running heads and ruled task tables), scans (OCR), .doc/.wps,
.xlsx/.xls and OFD packages, documents published without line breaks, and attachments holding several
tables. Fixtures are written here (tests/documents.py) or committed with their provenance
(tests/fixtures/README.md); made-up documents are of a fictional county (青禾县).
"""

from __future__ import annotations

import collections
import datetime as dt
import difflib
import re
import unicodedata
from pathlib import Path

import pytest

from core.errors import LoadError
from core.records import OCR_NOTE, Clause, PolicyDocument, ScoredClause
from ingest import ocr
from ingest.loaders import load_file
from ingest.pipeline import parse_document
from tests import documents
from tests.conftest import POLICIES

TODAY = dt.date(2026, 11, 22)
MAX_BYTES = 50 * 1024 * 1024
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = sorted(p.name for p in POLICIES.glob("*.txt"))
META = ("title", "doc_number", "issuer", "issued_on", "region", "period", "status", "valid_until")


def parse(path: Path) -> tuple[PolicyDocument, list[Clause]]:
    return parse_document(path, today=TODAY, max_bytes=MAX_BYTES)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def kept_under_path(original: list[Clause], other: list[Clause]) -> float:
    """Share of the original clauses whose text stands, in the other reading, under the same path."""
    under: dict[tuple[str, ...], str] = collections.defaultdict(str)
    for c in other:
        under[tuple(c.path)] += squash(c.text)
    return sum(squash(c.text) in under.get(tuple(c.path), "") for c in original) / len(original)


def run_on(text: str) -> str:
    """The text with its line breaks removed; a table keeps one line per row (lines holding a tab), as
    a table published on a portal keeps its rows."""
    out, run = [], []
    for line in text.split("\n"):
        if "\t" in line:
            out += ["".join(run), line] if run else [line]
            run = []
        else:
            run.append(line)
    return "\n".join([*out, "".join(run)] if run else out)


def task_rows(clauses: list[Clause]) -> list[tuple[object, ...]]:
    return [(c.path[-1], squash(c.text), c.lead_units, c.responsible_units, c.deadline and c.deadline.text)
            for c in clauses if c.kind == "task_row"]


# --- PDF: hard-wrapped lines, page numbers, running heads, tables ---------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_hard_wrapped_pdf_of_each_sample_document_reads_like_its_text(tmp_path: Path, name: str) -> None:
    documents.need_writers()
    text = (POLICIES / name).read_text("utf-8")
    pdf = documents.write_pdf(tmp_path / name.replace(".txt", ".pdf"), text)
    doc_txt, txt = parse(POLICIES / name)
    doc_pdf, from_pdf = parse(pdf)
    # the .txt's "[bookmark: _GoBack]" debris keeps one signature line in the notice; the PDF prints none
    assert kept_under_path(txt, from_pdf) >= 0.96
    assert {k: getattr(doc_pdf, k) for k in META} == {k: getattr(doc_txt, k) for k in META}
    assert task_rows(from_pdf) == task_rows(txt)
    assert doc_pdf.coverage == 1.0


def test_a_wrapped_measure_is_one_clause_with_its_units(tmp_path: Path) -> None:
    documents.need_writers()
    text = (POLICIES / "fengjie-2026-software-info-industry-action-plan.txt").read_text("utf-8")
    _, clauses = parse(documents.write_pdf(tmp_path / "plan.pdf", text))
    item = next(c for c in clauses if c.path[-1] == "（一）网播产业")
    assert item.text.startswith("（一）网播产业。以高铁生态城网络直播产业园为核心")
    assert item.text.endswith("重庆白盐集团〕")  # the unit bracket five lines further down
    assert item.lead_units == ["县文化旅游委", "县商务委"]


def test_page_numbers_and_running_heads_are_dropped(tmp_path: Path) -> None:
    documents.need_writers()
    words = "本项措施的内容在这里写明，篇幅足以折行。" * 3
    body = "\n".join(f"（{n}）第{n}项措施。{words}" for n in "一二三四五六七八九十")
    text = "青禾县数字乡村建设实施方案\n一、重点任务\n" + body * 3
    loaded = load_file(documents.write_pdf(tmp_path / "plan.pdf", text, running_head="青禾县人民政府办公室文件"))
    pages = int(re.findall(r"— (\d+) —", " ".join(loaded.removed))[-1])
    assert pages >= 3
    numbers = {f"— {n} —" for n in range(1, pages + 1)}
    assert sorted(set(loaded.removed)) == sorted({"青禾县人民政府办公室文件", *numbers})
    assert "—" not in loaded.text and "人民政府办公室文件" not in loaded.text
    assert loaded.text.split("\n")[2] == f"（一）第一项措施。{words}"


TASKS = [
    ["序号", "工作任务", "牵头单位", "责任单位", "完成时限"],
    *[[str(n), f"建设第{n}批村级电商服务站点，每批不少于{10 + n}个，并配套建设冷链仓储、快递收发和农产品展示设施，"
       "实现站点运营管理制度化、服务标准化。", "县商务服务局", "县财政局、县交通物流局、各乡镇人民政府",
       f"202{6 + n % 3}年12月底"] for n in range(1, 13)],
]


def test_pdf_task_table_yields_the_rows_the_docx_does(tmp_path: Path) -> None:
    documents.need_writers()
    import docx

    d = docx.Document()
    d.add_paragraph("青禾县数字乡村建设实施方案")
    d.add_paragraph("一、重点任务")
    d.add_paragraph("各单位按分工抓好落实。")
    d.add_paragraph("附件")
    d.add_paragraph("重点任务分工表")
    table = d.add_table(rows=len(TASKS), cols=5)
    for i, row in enumerate(TASKS):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    d.save(str(tmp_path / "plan.docx"))
    cells = "\n".join("\n".join("\t" + c for c in row) + "\n" for row in TASKS)
    text = f"青禾县数字乡村建设实施方案\n一、重点任务\n各单位按分工抓好落实。\n附件\n重点任务分工表\n{cells}"
    pdf = documents.write_pdf(tmp_path / "plan.pdf", text)
    assert len(load_file(pdf).removed) >= 2  # the table runs over pages, its header repeated on each
    from_docx, from_pdf = task_rows(parse(tmp_path / "plan.docx")[1]), task_rows(parse(pdf)[1])
    assert len(from_pdf) == 12
    assert from_pdf == from_docx
    assert from_pdf[6] == ("第7项", squash("".join(TASKS[7][1:])), ["县商务服务局"],
                           ["县财政局", "县交通物流局", "各乡镇人民政府"], "2027年12月底")


# --- OCR: scans and images -----------------------------------------------------------------------

SCAN_LINES = [
    "青禾县数字乡村建设实施方案", "一、发展目标",
    "到2028年，全县建成村级电商服务站点60个，培育农村电商",
    "企业20家，农产品网络零售额达到3亿元。", "二、重点任务",
    "（一）建设电商站点。对新建村级电商服务站点，每个给予2",
    "万元一次性补贴。（牵头单位：县商务服务局；责任单位：",
    "县财政局）",
]


def need_ocr() -> None:
    documents.need_writers()
    if not ocr.available():
        pytest.skip(f"the OCR engine is not installed ({ocr.INSTALL_HINT})")


def char_match(source: str, read: str) -> float:
    """Share of the source's characters (NFKC, whitespace left out) that the read text reproduces."""
    a, b = (squash(unicodedata.normalize("NFKC", x)) for x in (source, read))
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(m.size for m in matcher.get_matching_blocks()) / len(a)


def test_scanned_page_of_a_sample_document_is_read_at_95_percent(tmp_path: Path) -> None:
    need_ocr()
    text = (POLICIES / "wanzhou-2023-mantianxing-digital-economy-plan.txt").read_text("utf-8")
    paragraphs = [x.strip() for x in text.split("\n") if x.strip() and "\t" not in x][10:30]
    lines = [p[i : i + 27] for p in paragraphs for i in range(0, len(p), 27)][:22]  # a printed page holds 22
    loaded = load_file(documents.write_scanned_pdf(tmp_path / "scan.pdf", [lines]))
    assert char_match("".join(lines), loaded.text) >= 0.95
    assert "—" not in loaded.text  # the page number, whether OCR read it or not


def test_a_scan_with_page_numbers_as_its_text_layer_is_read_by_ocr(tmp_path: Path) -> None:
    need_ocr()
    pages = [SCAN_LINES[:4], SCAN_LINES[4:]]
    doc, clauses = parse(documents.write_scanned_pdf(tmp_path / "scan.pdf", pages))
    assert doc.title == "青禾县数字乡村建设实施方案"
    assert [c.path for c in clauses] == [["标题"], ["一、发展目标"], ["二、重点任务", "（一）建设电商站点"]]
    assert all(c.ocr for c in clauses)
    station = clauses[2]
    assert station.lead_units == ["县商务服务局"] and station.responsible_units == ["县财政局"]
    assert [a.text for a in station.amounts] == ["给予2万元"]
    assert station.label == "二、重点任务 › （一）建设电商站点" + OCR_NOTE
    [region] = station.regions
    assert (region.page, region.unit) == (2, "pt")
    assert 28 * 72 / 25.4 - 5 < region.x0 and region.x1 < 210 * 72 / 25.4 - 20  # inside the printed area
    assert station.source_note().startswith("扫描件OCR识别：第2页")
    staff = ScoredClause(station, 1.0, doc).to_json()
    assert staff["ocr"] is True and staff["source_regions"][0]["page"] == 2
    assert "ocr" not in ScoredClause(Clause("c", "d", 0, ["一"], "正文"), 1.0).to_json()


def test_a_png_scan_is_read_by_ocr(tmp_path: Path) -> None:
    need_ocr()
    documents.render_page_image(SCAN_LINES).save(tmp_path / "scan.png")  # type: ignore[attr-defined]
    doc, clauses = parse(tmp_path / "scan.png")
    assert doc.title == "青禾县数字乡村建设实施方案"
    assert all(c.ocr and c.regions and c.regions[0].unit == "px" for c in clauses)
    assert char_match("".join(SCAN_LINES), load_file(tmp_path / "scan.png").text) >= 0.95


def test_without_the_ocr_extra_a_scan_is_refused_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    documents.need_writers()
    monkeypatch.setattr(ocr, "_engine", lambda: None)
    scan = documents.write_scanned_pdf(tmp_path / "scan.pdf", [SCAN_LINES])
    with pytest.raises(LoadError, match=r"needs OCR.*pip install 'policybot\[ocr\]'"):
        load_file(scan)
    documents.render_page_image(SCAN_LINES).save(tmp_path / "scan.png")  # type: ignore[attr-defined]
    with pytest.raises(LoadError, match=r"policybot\[ocr\]"):
        load_file(tmp_path / "scan.png")


# --- .doc, .wps, .xlsx, .xls, .ofd ---------------------------------------------------------------

PLAN_PATHS = [
    ["标题"], ["印发通知"], ["落款"], ["前言"], ["一、发展目标"], ["二、重点任务", "（一）建设电商站点"],
    ["二、重点任务", "（二）发展冷链物流"], ["附件 重点任务分工表", "第1项"], ["附件 重点任务分工表", "第2项"],
    ["附件 重点任务分工表", "第3项"],
]
PLAN_TASKS = [
    ("第1项", "建成村级电商服务站点60个县商务服务局县财政局、各乡镇2027年12月底", ["县商务服务局"],
     ["县财政局", "各乡镇"], "2027年12月底"),
    ("第2项", "培育农村电商企业20家县商务服务局县市场服务局2028年6月底", ["县商务服务局"], ["县市场服务局"],
     "2028年6月底"),
    ("第3项", "新建冷链仓储设施2处县交通物流局县商务服务局2026年10月底", ["县交通物流局"], ["县商务服务局"],
     "2026年10月底"),
]


@pytest.mark.parametrize("name", ["qinghe-plan.doc", "qinghe-plan.wps"])
def test_word97_and_wps_files(name: str) -> None:
    doc, clauses = parse(FIXTURES / name)
    assert (doc.title, doc.doc_number, doc.issuer, doc.issued_on, doc.period, doc.region) == (
        "青禾县数字乡村建设实施方案（2026—2028年）", "青府办发〔2026〕12号", "青禾县人民政府办公室", "2026-03-02",
        "2026—2028", None)
    assert [c.path for c in clauses] == PLAN_PATHS
    assert task_rows(clauses) == PLAN_TASKS  # the lead unit merged down two rows belongs to both
    station = next(c for c in clauses if c.path[-1] == "（一）建设电商站点")
    assert (station.lead_units, station.responsible_units, [a.text for a in station.amounts]) == (
        ["县商务服务局"], ["县财政局"], ["给予2万元"])
    assert doc.coverage == 1.0


def test_a_wps_file_of_another_format_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "old.wps").write_bytes(b"\x00\x01WPS DOS-era text " * 50)
    with pytest.raises(LoadError, match=r"not a Word 97–2003 \.wps file"):
        load_file(tmp_path / "old.wps")


def test_docx_fixture_reads_like_its_word97_conversion(tmp_path: Path) -> None:
    documents.need_writers()
    _, from_docx = parse(documents.write_plan_docx(tmp_path / "qinghe-plan.docx"))
    _, from_doc = parse(FIXTURES / "qinghe-plan.doc")
    assert [(c.path, c.text) for c in from_doc] == [(c.path, c.text) for c in from_docx]


SHEET_TASKS = [(n, t.replace("\t", ""), lead, resp, dl) for n, t, lead, resp, dl in PLAN_TASKS]


@pytest.mark.parametrize("make", ["xlsx", "xls"])
def test_spreadsheets(tmp_path: Path, make: str) -> None:
    path = FIXTURES / "qinghe-tasks.xls" if make == "xls" else None
    if path is None:
        pytest.importorskip("openpyxl", reason="openpyxl writes the fixture: pip install -e '.[dev]'")
        path = documents.write_task_xlsx(tmp_path / "qinghe-tasks.xlsx")
    doc, clauses = parse(path)
    assert doc.title == "青禾县数字乡村建设重点任务清单"
    assert task_rows(clauses) == SHEET_TASKS
    targets = [c for c in clauses if c.kind != "task_row" and c.path != ["标题"]]
    assert [(c.path, c.text) for c in targets] == [
        (["指标", "表头：指标｜2026年｜2028年"], "村级电商服务站点（个）\t30\t60"),
        (["指标", "表头：指标｜2026年｜2028年"], "农产品网络零售额（亿元）\t1.5\t3"),
    ]


def test_ofd_package_reads_like_its_text(tmp_path: Path) -> None:
    text = (POLICIES / "wanzhou-2023-mantianxing-digital-economy-plan.txt").read_text("utf-8")
    path = documents.write_ofd(tmp_path / "plan.ofd", text, running_head="青禾县人民政府办公室文件")
    doc_txt, txt = parse(POLICIES / "wanzhou-2023-mantianxing-digital-economy-plan.txt")
    doc_ofd, from_ofd = parse(path)
    assert kept_under_path(txt, from_ofd) == 1.0
    assert {k: getattr(doc_ofd, k) for k in META} == {k: getattr(doc_txt, k) for k in META}
    assert "青禾县人民政府办公室文件" in load_file(path).removed


def test_corrupt_ofd_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.ofd").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(LoadError, match=r"corrupt \.ofd"):
        load_file(tmp_path / "bad.ofd")


# --- attachments with several tables --------------------------------------------------------------


def _cells(rows: list[list[str]]) -> str:
    return "\n".join("\n".join("\t" + c for c in row) + "\n" for row in rows)


def test_every_table_of_every_attachment_is_read() -> None:
    head = ["序号", "工作任务", "牵头单位", "责任单位", "完成时限"]
    first = [head, ["1", "建设村级电商站点60个", "县商务服务局", "县财政局", "2026年12月底"]]
    second = [head, ["1", "新建冷链仓储设施2处", "县交通物流局", "县商务服务局", "2026年10月底"],
              ["2", "建设智慧农场3个", "县乡村振兴局", "", "2027年12月底"]]
    targets = [["序号", "指标", "2025年", "2027年"], ["1", "电商站点（个）", "30", "60"]]
    from ingest.structure import parse_text

    parsed = parse_text("青禾县数字乡村建设实施方案\n一、重点任务\n（一）建设电商站点。到2027年建成站点60个。\n"
                        "附件：1．电商任务分工表\n2．冷链任务分工表\n\n附件1\n电商任务分工表\n" + _cells(first)
                        + "\n附件2\n冷链任务分工表\n" + _cells(second) + "\n表2 主要指标\n" + _cells(targets))
    rows = [(b.kind, b.path, b.text) for b in parsed.blocks if b.kind in ("task_row", "table_row")]
    assert rows == [
        ("task_row", ["附件 电商任务分工表", "第1项"], "建设村级电商站点60个\t县商务服务局\t县财政局\t2026年12月底"),
        ("task_row", ["附件 冷链任务分工表", "第1项"], "新建冷链仓储设施2处\t县交通物流局\t县商务服务局\t2026年10月底"),
        ("task_row", ["附件 冷链任务分工表", "第2项"], "建设智慧农场3个\t县乡村振兴局\t2027年12月底"),
        ("table_row", ["附件 冷链任务分工表", "表2 主要指标", "第1项"], "电商站点（个）\t30\t60"),
    ]


# --- text published without line breaks ----------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLES)
def test_run_on_copy_of_each_sample_document_keeps_its_clause_paths(tmp_path: Path, name: str) -> None:
    text = (POLICIES / name).read_text("utf-8")
    copy = tmp_path / name
    copy.write_text(run_on(text), "utf-8")
    prose = [ln for ln in copy.read_text("utf-8").split("\n") if "\t" not in ln]
    assert sum(map(len, sorted(prose, key=len)[-2:])) >= 0.9 * sum(map(len, prose))  # before and after tables
    doc, clauses = parse(POLICIES / name)
    doc_run_on, from_run_on = parse(copy)
    assert kept_under_path(clauses, from_run_on) >= 0.96
    assert {k: getattr(doc_run_on, k) for k in META} == {k: getattr(doc, k) for k in META}
    assert task_rows(from_run_on) == task_rows(clauses)


RUN_ON = (
    "青禾县人民政府办公室关于印发青禾县数字乡村建设实施方案的通知青府办发〔2026〕12号各乡镇人民政府，县政府各部门："
    "《青禾县数字乡村建设实施方案》已经县政府同意，现印发给你们，请认真贯彻执行。青禾县人民政府办公室　　2026年3月2日"
    "（此件公开发布）青禾县数字乡村建设实施方案为加快数字乡村建设，结合本县实际，制定本方案。一、发展目标到2028年，全县"
    "建成村级电商服务站点60个，农产品网络零售额达到3亿元。二、重点任务（一）建设电商站点对新建村级电商服务站点，每个给予"
    "2万元一次性补贴。（牵头单位：县商务服务局；责任单位：县财政局）（二）发展冷链物流1．新建冷链仓储设施2处。对冷库建设"
    "按投资额的20%给予补助。2．完善县乡村三级物流体系。到2027年实现快递进村全覆盖。专栏1 冷链物流重点工程建设县级冷链"
    "物流中心。新建冷库容量1万吨。三、保障措施（一）加强组织领导。成立工作专班。抄送：县委办公室。青禾县人民政府办公室"
    "2026年3月2日印发"
)


def test_a_made_up_run_on_document_gets_the_clause_tree_of_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "run-on.txt"
    path.write_text(RUN_ON, "utf-8")
    doc, clauses = parse(path)
    assert (doc.title, doc.doc_number, doc.issuer, doc.issued_on) == (
        "青禾县数字乡村建设实施方案", "青府办发〔2026〕12号", "青禾县人民政府办公室", "2026-03-02")
    assert [c.path for c in clauses] == [
        ["标题"], ["印发通知"], ["落款"], ["前言"], ["一、发展目标"],
        ["二、重点任务", "（一）建设电商站点"],
        ["二、重点任务", "（二）发展冷链物流", "1．新建冷链仓储设施2处"],
        ["二、重点任务", "（二）发展冷链物流", "2．完善县乡村三级物流体系"],
        ["二、重点任务", "（二）发展冷链物流", "专栏1 冷链物流重点工程"],
        ["三、保障措施", "（一）加强组织领导"],
    ]
    station = clauses[5]
    assert station.text == ("对新建村级电商服务站点，每个给予2万元一次性补贴。"
                            "（牵头单位：县商务服务局；责任单位：县财政局）")
    assert station.lead_units == ["县商务服务局"]
    assert clauses[4].text == "到2028年，全县建成村级电商服务站点60个，农产品网络零售额达到3亿元。"
    assert doc.coverage == 1.0


def test_staff_see_where_on_the_scan_an_ocr_clause_stands() -> None:
    from core.records import PageRegion
    from webapp.render import clause_detail_html

    doc = PolicyDocument("d", "青禾县数字乡村建设实施方案", None, None, None, None, None, None, None, None,
                         "effective", "scan.pdf", "0")
    clause = Clause("c", "d", 0, ["二、重点任务"], "建设电商站点。", ocr=True,
                    regions=[PageRegion(2, 79.4, 130.7, 520.0, 180.4)])
    html = clause_detail_html(clause, doc, overdue=False)
    assert "二、重点任务（扫描件OCR识别）" in html
    assert "<th>来源</th><td>扫描件OCR识别：第2页 左28–183毫米 上46–64毫米</td>" in html
    assert Clause.from_dict(clause.to_dict()) == clause
    assert "来源" not in clause_detail_html(Clause("c", "d", 0, ["一"], "正文"), doc, overdue=False)
