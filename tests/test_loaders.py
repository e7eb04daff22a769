from __future__ import annotations

import codecs
import random
import time
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from ingest.loaders import LoadedText, LoadError, decode_bytes, load_file

MB = 1024 * 1024
# The opening of data/policies/fengjie-2022-tech-innovation-empowerment-plan.txt, kept here so the test
# owns its fixture.
POLICY = (
    " 奉节县人民政府办公室\n\n关于印发奉节县“科技创新赋能”工程\n\n实施方案的通知\n\n"
    "各乡镇人民政府、街道办事处，县政府各部门，有关单位：\n\n"
    "《奉节县“科技创新赋能”工程实施方案》已经县政府同意，现印发给你们，请认真抓好落实。\n\n"
    "奉节县人民政府办公室       \n\n   2022年5月9日       \n\n（此件公开发布）\n\n"
    "一、主要目标\n——全面深化巩固国家创新型县建设成果。围绕生态修复、生态治理、生态监管等领域发力。\n"
)


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def make_pdf(content: bytes) -> bytes:
    """A minimal one-page PDF with correct xref offsets whose page draws `content` in Helvetica."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


TEXT_PDF = make_pdf(b"BT /F1 24 Tf 72 720 Td (Policy 2025) Tj ET")


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("重点任务分解表")
    table = document.add_table(rows=3, cols=3)
    for cell, text in zip(table.rows[0].cells, ["序号", "牵头单位", "完成时限"], strict=True):
        cell.text = text
    row = table.rows[1].cells
    row[0].text = "1"
    row[1].text = "县生态"
    row[1].add_paragraph("环境局")
    row[2].text = "2025年12月底"
    merged = table.rows[2].cells
    merged[0].merge(merged[2]).text = "合计"
    document.add_paragraph("二、保障措施")
    document.save(str(path))
    return path


# --- text ---------------------------------------------------------------------------------------


def test_utf8_txt_is_verbatim_with_newlines_normalised(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "a.txt", "第一行\r\n\t序号\r\n  缩进 \r第三行"))
    assert loaded == LoadedText("第一行\n\t序号\n  缩进 \n第三行", "utf-8", "txt")


def test_gbk_chinese_decodes_as_gb18030(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "gbk.txt", POLICY.encode("gbk")))
    assert loaded.encoding == "gb18030"
    assert loaded.text == POLICY
    for line in filter(str.strip, POLICY.splitlines()):  # short snippets too
        assert decode_bytes(line.encode("gbk")) == (line, "gb18030")


def test_utf8_is_never_taken_for_gb18030() -> None:
    assert decode_bytes(POLICY.encode("utf-8")) == (POLICY, "utf-8")
    for line in filter(str.strip, POLICY.splitlines()):
        assert decode_bytes(line.encode("utf-8")) == (line, "utf-8")


def test_utf8_with_a_stray_byte_is_kept_not_called_binary() -> None:
    text, encoding = decode_bytes(POLICY[:20].encode() + b"\xff" + POLICY[20:].encode())
    assert encoding == "utf-8"
    assert text.replace("\ufffd", "", 1) == POLICY


def test_boms(tmp_path: Path) -> None:
    assert load_file(write(tmp_path, "a.txt", codecs.BOM_UTF8 + "政策".encode())) == LoadedText(
        "政策", "utf-8-sig", "txt"
    )
    assert decode_bytes(codecs.BOM_UTF16_LE + "政策\r\nA".encode("utf-16-le")) == ("政策\r\nA", "utf-16-le")
    loaded = load_file(write(tmp_path, "be.txt", codecs.BOM_UTF16_BE + "政策\r\nA".encode("utf-16-be")))
    assert (loaded.text, loaded.encoding) == ("政策\nA", "utf-16-be")


def test_binary_content_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="binary"):
        load_file(write(tmp_path, "x.txt", bytes(range(256)) * 100))
    with pytest.raises(LoadError, match="binary"):  # no NUL, but mostly control characters
        load_file(write(tmp_path, "y.txt", bytes(range(1, 32)) * 100))
    noise = random.Random(7).randbytes(20_000).replace(b"\x00", b"\x01")
    with pytest.raises(LoadError, match="binary"):
        decode_bytes(noise)


def test_empty_files(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="empty"):
        load_file(write(tmp_path, "e.txt", b""))
    with pytest.raises(LoadError, match="empty"):
        load_file(write(tmp_path, "w.txt", " \r\n\t\n"))
    with pytest.raises(LoadError, match="empty"):
        load_file(write(tmp_path, "e.md", "\n\n"))


def test_size_cap_is_checked_before_reading(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="size") as info:
        load_file(write(tmp_path, "big.txt", b"a" * 2000), max_bytes=1000)
    assert "2000" in str(info.value)
    assert "1000" in str(info.value)


def test_missing_and_unsupported(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="not found"):
        load_file(tmp_path / "nope.txt")
    with pytest.raises(LoadError, match="unsupported") as info:
        load_file(write(tmp_path, "slides.pptx", b"data"))
    assert ".docx" in str(info.value)
    assert ".pdf" in str(info.value)


# --- docx ---------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_in_document_order(tmp_path: Path) -> None:
    loaded = load_file(make_docx(tmp_path / "plan.docx"))
    assert (loaded.encoding, loaded.fmt) == ("docx", "docx")
    assert loaded.text == (
        "重点任务分解表\n"
        "\t序号\n\t牵头单位\n\t完成时限\n\n"
        "\t1\n\t县生态\n环境局\n\t2025年12月底\n\n"
        "\t合计\n\n"  # a cell merged across three columns appears once
        "二、保障措施"
    )


def test_truncated_docx_is_corrupt(tmp_path: Path) -> None:
    data = make_docx(tmp_path / "whole.docx").read_bytes()
    with pytest.raises(LoadError, match="corrupt"):
        load_file(write(tmp_path, "half.docx", data[: len(data) // 2]))
    with pytest.raises(LoadError, match="corrupt"):
        load_file(write(tmp_path, "text.docx", "plain text, not a zip"))
    with pytest.raises(LoadError, match=r"old \.doc format"):
        load_file(write(tmp_path, "legacy.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000)))


def zip_with_zeros(path: Path, megabytes: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/media/image1.bin", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(bytes(MB))
    return path


def test_zip_bomb_rejected_before_unpacking(tmp_path: Path) -> None:
    bomb = zip_with_zeros(tmp_path / "bomb.docx", 300)
    assert bomb.stat().st_size < 5 * MB
    start = time.perf_counter()
    with pytest.raises(LoadError, match="unpack"):
        load_file(bomb)
    assert time.perf_counter() - start < 2


def test_absurd_compression_ratio_rejected_under_the_total_cap(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="unpack") as info:
        load_file(zip_with_zeros(tmp_path / "ratio.docx", 20))
    assert "image1.bin" in str(info.value)


def test_unpacked_cap_is_a_parameter(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="unpack"):
        load_file(make_docx(tmp_path / "plan.docx"), max_unpacked_bytes=1000)


# --- pdf ----------------------------------------------------------------------------------------


def test_pdf_text_layer(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "p.pdf", TEXT_PDF))
    assert (loaded.text.strip(), loaded.encoding, loaded.fmt) == ("Policy 2025", "pdf", "pdf")


def test_corrupt_pdf(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="corrupt"):
        load_file(write(tmp_path, "c.pdf", b"%PDF-1.7\n" + random.Random(3).randbytes(4000)))


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="no text layer"):
        load_file(write(tmp_path, "scan.pdf", make_pdf(b"0 0 m 100 100 l S")))


def test_encrypted_pdf(tmp_path: Path) -> None:
    def encrypted(user: str) -> Path:
        writer = PdfWriter(clone_from=PdfReader(write(tmp_path, "plain.pdf", TEXT_PDF)))
        writer.encrypt(user_password=user, owner_password="owner", algorithm="RC4-128")
        path = tmp_path / f"enc-{user or 'none'}.pdf"
        writer.write(path)
        return path

    with pytest.raises(LoadError, match="encrypted"):
        load_file(encrypted("secret"))
    # Owner-password-only PDFs open in any viewer without a prompt, so they load.
    assert load_file(encrypted("")).text.strip() == "Policy 2025"


# --- html / md ----------------------------------------------------------------------------------

HTML = """<!DOCTYPE html><html><head><meta charset="{charset}"><title>标题栏</title>
<style>p {{ color: red }}</style></head><body>
<nav>首页 | 政策</nav><header>站点页眉</header>
<h1>关于印发实施方案的通知</h1>
<p>各乡镇人民政府，
   县政府各部门：<br>请认真抓好落实。</p><!-- comment -->
<script>var x = "不应出现";</script>
<table><tr><th>序号</th><th>牵头单位</th></tr>
<tr><td>1</td><td>县生态<br>环境局</td></tr></table>
<div>附件：<a href="/x.pdf">任务清单</a></div>
<footer>版权所有</footer></body></html>"""
HTML_TEXT = (
    "关于印发实施方案的通知\n各乡镇人民政府， 县政府各部门：\n请认真抓好落实。\n"
    "\t序号\n\t牵头单位\n\n\t1\n\t县生态\n环境局\n\n附件：任务清单"
)


def test_html_with_table_and_script(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "n.html", HTML.format(charset="gbk").encode("gbk")))
    # nav, header and footer are page chrome by name: removed, and reported as such
    # "标题栏" is the <title> only, no line of the page: not taken for the document's title
    assert loaded == LoadedText(HTML_TEXT, "html", "html", {"html_title": "标题栏"}, None,
                                ("首页 | 政策", "站点页眉", "版权所有"))


def test_html_meta_charset_that_lies_falls_back_to_detection(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "n.htm", HTML.format(charset="utf-8").encode("gbk")))
    assert loaded.text == HTML_TEXT


MD = """# 奉节县实施方案

**重点**任务见[附件一](https://example.gov.cn/a.pdf)，详见 __说明__，另见__附表__。
- 第一项
* 第二项
snake__case_name 保持原样

| 序号 | 牵头单位 |
|:---:|------|
| 1 | 县生态<br>环境局 |
| 2 | a \\| b |

## 二、保障措施
"""


def test_markdown_markup_and_pipe_table(tmp_path: Path) -> None:
    loaded = load_file(write(tmp_path, "plan.md", MD.replace("\n", "\r\n")))
    assert (loaded.encoding, loaded.fmt) == ("md", "md")
    assert loaded.text == (
        # CommonMark: "__" glued to a letter on both sides is literal, so only the spaced one is emphasis.
        "奉节县实施方案\n\n重点任务见附件一，详见 说明，另见__附表__。\n"
        "第一项\n第二项\nsnake__case_name 保持原样\n\n"
        "\t序号\n\t牵头单位\n\n\t1\n\t县生态\n环境局\n\n\t2\n\ta | b\n\n"
        "二、保障措施\n"
    )


def test_repository_sample_keeps_its_task_table() -> None:
    sample = Path(__file__).parents[1] / "data/policies/fengjie-2022-tech-innovation-empowerment-plan.txt"
    if not sample.exists():
        pytest.skip("sample corpus not present")
    loaded = load_file(sample)
    assert loaded.encoding == "utf-8"
    assert "\t序号\n\t工作任务\n\t牵头单位\n" in loaded.text


def test_html_declaring_a_charset_is_still_checked_for_binary(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="binary"):
        load_file(write(tmp_path, "x.html", b'<meta charset="latin-1">' + bytes(range(1, 32)) * 50))
