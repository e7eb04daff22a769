"""Which main-content extractor keeps a policy page's text and drops its chrome? Measured on the
eight Guangzhou/Guangdong pages of data/policies-other.

For each page the policy text is marked by hand below: the page title line, the first and the last
line of the document (its 文号 or first paragraph … its last paragraph, 印发 line or last table row).
Everything a reader sees (hidden elements removed) from the title to the last line is the *region*;
from the first to the last line is the *body*.

- kept: share of the body's characters whose line is found in the extractor's output;
- leaked: share of the output's characters whose line is not found in the region (menus, footers,
  related links, share buttons …).

Whitespace and "|" (table markup of text outputs) are ignored when lines are compared.

    .venv/bin/python bench/html_extraction.py            # table in Markdown, as in the README

jusText comes with trafilatura. readability-lxml is not a dependency of the project (pip 23 cannot
resolve it together with trafilatura in one install); add it for this comparison with
`.venv/bin/pip install readability-lxml==0.9`. Without it its row is left out.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import justext
import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.html import read_page, render, visible_soup  # noqa: E402
from ingest.loaders import decode_html  # noqa: E402

PAGES = ROOT / "data" / "policies-other"


@dataclass(frozen=True)
class Truth:
    title: str
    first: str
    last: str


TRUTH = {
    "201": Truth("广州市天河区深化支持港澳青年创新创业高质量发展实施办法", "穗天科工信规字〔2023〕1号",
                 "2023年8月9日印发"),
    "202": Truth("广州市高校毕业生创业补贴，请查收", "1、一次性创业资助", "补贴期限：一次性。"),
    "203": Truth("创业担保贷款常见问题", "一、创业担保贷款申请对象有哪几类？", "答：目前，我市通过公开遴选确定"),
    "204": Truth("基本信息", "穗人社规字〔2019〕6号", "公开方式：主动公开"),
    "205": Truth("广州市卫生健康委等4部门关于印发推进广州市家庭医生签约服务高质量发展实施方案的通知",
                 "穗卫函〔2023〕1930号", "宣传处"),
    "206": Truth("关于受理天河区人才公寓申请的公告", "根据《天河区人才公寓建设和使用管理办法》", "2025年8月11日"),
    "207": Truth("广东省高校毕业生就业创业扶持政策清单", "为促进高校毕业生高质量充分就业",
                 "公共就业人才服务机构为高校毕业生提供免费"),
    "208": Truth("【关注】学历型人才引进入户申报指南", "【导语】", "立即行动吧，开启您的广州安居乐业之旅！"),
}


def squash(text: str) -> str:
    return re.sub(r"[\s|]", "", text)


def find(lines: list[str], marker: str, start: int = 0, last: bool = False) -> int:
    """The line starting with `marker`; the title and the first line are never table cells."""
    m = squash(marker)
    hits = [i for i in range(start, len(lines))
            if squash(lines[i]).startswith(m) and (last or not lines[i].startswith("\t"))]
    if not hits:
        raise SystemExit(f"marker not found: {marker}")
    return hits[-1] if last else hits[0]


def truth_lines(html: str, t: Truth) -> tuple[list[str], list[str]]:
    lines = [x for x in render(visible_soup(html).body) if squash(x)]
    title = find(lines, t.title)
    first = find(lines, t.first, title)
    last = find(lines, t.last, first, last=True)
    return lines[first : last + 1], lines[title : last + 1]


def measure(output: str, body: list[str], region: list[str]) -> tuple[float, float]:
    out = squash(output)
    body_chars = sum(len(squash(x)) for x in body)
    kept = sum(len(squash(x)) for x in body if squash(x) in out)
    reg = squash("\n".join(region))
    out_lines = [squash(x) for x in output.split("\n") if squash(x)]
    out_chars = sum(len(x) for x in out_lines) or 1
    leaked = sum(len(x) for x in out_lines if x not in reg)
    return kept / body_chars, leaked / out_chars


def _trafilatura(**kw: object) -> Callable[[str], str]:
    def run(html: str) -> str:
        return trafilatura.extract(html, include_tables=True, include_comments=False, deduplicate=False, **kw) or ""
    return run


def _readability(html: str) -> str:
    from readability import Document  # optional: installed by hand for this comparison only

    summary = Document(html).summary(html_partial=True)
    return "\n".join(render(visible_soup(summary)))


def _has_readability() -> bool:
    try:
        import readability  # noqa: F401  optional, see the module docstring
    except ImportError:
        return False
    return True


def _justext(html: str) -> str:
    # No Chinese stop list ships with justext: its language-independent mode (empty list, thresholds 0)
    paragraphs = justext.justext(html.encode("utf-8"), frozenset(), stopwords_low=0, stopwords_high=0,
                                 encoding="utf-8")
    return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)


def _visible(html: str) -> str:
    return "\n".join(render(visible_soup(html).body))


def _ours(html: str) -> str:
    return read_page(html).text


EXTRACTORS: dict[str, Callable[[str], str]] = {
    "whole visible page (no extraction)": _visible,
    "trafilatura 2.3.1, default": _trafilatura(),
    "trafilatura 2.3.1, favor_recall": _trafilatura(favor_recall=True),
    "trafilatura 2.3.1, favor_precision": _trafilatura(favor_precision=True),
    "readability-lxml 0.9": _readability,
    "jusText 3.0.2 (language-independent)": _justext,
    "as used: trafilatura points, we render (ingest.html.read_page)": _ours,
}


def main() -> None:
    pages = sorted(PAGES.glob("*.html"))
    truths = {}
    for p in pages:
        html, _ = decode_html(p.read_bytes())
        truths[p.name[:3]] = (html, *truth_lines(html, TRUTH[p.name[:3]]))
    print("| extractor | kept, mean | kept, worst page | leaked, mean | leaked, worst page | ms/page |")
    print("|---|---|---|---|---|---|")
    if not _has_readability():
        EXTRACTORS.pop("readability-lxml 0.9")
    for name, run in EXTRACTORS.items():
        kept, leaked, per = [], [], []
        for key, (html, body, region) in truths.items():
            t0 = time.perf_counter()
            out = run(html)
            per.append((time.perf_counter() - t0) * 1000)
            k, lk = measure(out, body, region)
            kept.append((k, key))
            leaked.append((lk, key))
        kmin, lmax = min(kept), max(leaked)
        print(f"| {name} | {statistics.mean(k for k, _ in kept):.1%} | {kmin[0]:.1%} ({kmin[1]}) | "
              f"{statistics.mean(x for x, _ in leaked):.1%} | {lmax[0]:.1%} ({lmax[1]}) | {statistics.mean(per):.0f} |")
    if "-v" in sys.argv:
        for name, run in EXTRACTORS.items():
            cells = []
            for key, (html, body, region) in truths.items():
                k, lk = measure(run(html), body, region)
                cells.append(f"{key}: {k:.0%}/{lk:.0%}")
            print(name, " ".join(cells))


if __name__ == "__main__":
    main()
