"""`policybot` command line: ingest, remove, docs, search, ask, eval, serve."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from core.errors import BackendUnavailable, ConfigError, IndexLocked
from core.privacy import mask_logs
from core.records import GENERATED_LABEL, STATUS_LABELS, Answer, PolicyDocument
from core.retrieval import Filters
from core.settings import Settings, get_settings
from policybot import wiring

log = logging.getLogger("policybot")


def _out(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "index", None):
        overrides["index_dir"] = Path(args.index)
    return get_settings(**overrides)


def cmd_ingest(args: argparse.Namespace) -> int:
    s = _settings(args)
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            desc = {"parse": "解析文件", "embed": "向量化"}.get(stage, stage)
            bar = bars[stage] = tqdm(
                total=total, desc=desc, unit="项", file=sys.stderr, leave=False, disable=args.quiet
            )
        bar.n = done
        bar.refresh()

    try:
        report = wiring.ingest_paths(
            [Path(p) for p in args.paths], settings=s, progress=progress, include=args.include or ()
        )
    except (IndexLocked, BackendUnavailable) as e:  # another writer, or the Chroma server is unreachable
        print(f"错误：{e}", file=sys.stderr)
        return 3
    finally:
        for bar in bars.values():
            bar.close()
    summary = {
        "index": str(s.index_dir),
        "documents": report.documents,
        "clauses": report.clauses,
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "skipped": len(report.skipped),
        "embedded": report.embedded,
        "failed": [{"path": p, "reason": r} for p, r in report.failed],
        "ignored": [{"path": p, "reason": r} for p, r in report.ignored],
        "errors": [{"path": p, "reason": r} for p, r in report.errors],
        "warnings": report.warnings,
        "seconds": round(report.seconds, 2),
    }
    if args.json:
        _out(summary)
    else:
        print(
            f"文件 {report.documents} 个，条款 {report.clauses} 条；"
            f"新增 {len(report.added)}，更新 {len(report.updated)}，"
            f"移除 {len(report.removed)}，未变跳过 {len(report.skipped)}，失败 {len(report.failed)}；"
            f"新计算向量 {report.embedded}；用时 {report.seconds:.1f} 秒"
        )
        for p, r in report.errors:
            print(f"  错误：{p}：{r}")
        for p in report.removed:
            print(f"  已移除：{p}（源文件已不在所读文件夹中）")
        for p, r in report.failed:
            print(f"  失败：{p}：{r}")
        for p, r in report.ignored:
            print(f"  未读取：{p}：{r}")
        for w in report.warnings:
            print(f"  警告：{w}")
    if report.errors:  # a named folder that is missing or empty: the operator must look
        return 1
    return 1 if report.failed and not (report.added or report.updated or report.skipped) else 0


def match_documents(docs: dict[str, PolicyDocument], ref: str) -> list[PolicyDocument]:
    """The documents a name refers to: exactly (doc_id, 文号, file name, title), else by part of the title."""
    exact = [d for d in docs.values() if ref in (d.doc_id, d.doc_number, d.source_file, d.title)]
    return exact or [d for d in docs.values() if ref in d.title]


def cmd_remove(args: argparse.Namespace) -> int:
    s = _settings(args)
    docs = wiring.open_index(s, with_embeddings=False).docs
    chosen: dict[str, PolicyDocument] = {}
    problems = []
    for ref in args.documents:
        found = match_documents(docs, ref)
        if not found:
            problems.append(f"没有找到“{ref}”对应的文件 / no document matches {ref!r}")
        elif len(found) > 1 and not args.all:
            names = "；".join(f"{d.title}（{d.source_file}，{d.doc_id}）" for d in found)
            problems.append(f"“{ref}”对应 {len(found)} 份文件，请用 doc_id 或文件名指明，或加 --all：{names}")
        else:
            chosen.update({d.doc_id: d for d in found})
    if problems:  # nothing is removed unless every name is clear
        for p in problems:
            print(f"错误：{p}", file=sys.stderr)
        return 2
    try:
        report = wiring.ingest_paths([], settings=s, remove_doc_ids=list(chosen))
    except (IndexLocked, BackendUnavailable) as e:  # another writer, or the Chroma server is unreachable
        print(f"错误：{e}", file=sys.stderr)
        return 3
    removed = [{"doc_id": d.doc_id, "title": d.title, "source_file": d.source_file,
                "source_exists": Path(d.source_path).exists()} for d in chosen.values()]
    if args.json:
        _out({"index": str(s.index_dir), "removed": removed, "documents": report.documents,
              "clauses": report.clauses})
        return 0
    for r in removed:
        # the file itself is left alone: it belongs to whoever put it there
        note = "；源文件仍在，重新入库其文件夹会再次加入" if r["source_exists"] else ""
        print(f"已移除：《{r['title']}》（{r['source_file']}，{r['doc_id']}）{note}")
    print(f"文件 {report.documents} 个，条款 {report.clauses} 条")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    idx = wiring.open_index(_settings(args), with_embeddings=False)
    docs = sorted(idx.docs.values(), key=lambda d: (d.region or "", d.issued_on or ""))
    rows = [d.catalog_json() for d in docs]
    if args.json:
        _out(rows)
        return 0
    for r in rows:
        print(
            f"{r['title']}\n  文号：{r['doc_number'] or '—'}  发文：{r['issuer'] or '—'}  "
            f"日期：{r['issued_on'] or '—'}  地区：{r['region'] or '—'}  期限：{r['period'] or '—'}  "
            f"状态：{STATUS_LABELS[r['status']]}  条款：{r['clause_count']}"
        )
    return 0


def _filters(args: argparse.Namespace, docs: dict[str, PolicyDocument]) -> Filters:
    doc_ids = None
    if args.doc:
        doc_ids = [
            d.doc_id
            for d in docs.values()
            if args.doc in (d.doc_id, d.doc_number, d.source_file) or args.doc in d.title
        ]
    regions = [args.region] if args.region else None
    if regions:
        known = {d.region for d in docs.values() if d.region}
        if args.region not in known:  # a short name ("某某") finds the stored one ("某某市某某区")
            regions = sorted(r for r in known if args.region in r or r in args.region) or [args.region]
    return Filters(regions=regions, doc_ids=doc_ids, kinds=[args.kind] if args.kind else None)


def cmd_search(args: argparse.Namespace) -> int:
    idx = wiring.open_index(_settings(args))
    filters = _filters(args, idx.docs)
    if args.jsonl:
        for line in sys.stdin:
            if not line.strip():
                continue
            q = json.loads(line)
            hits = idx.search(q["query"], k=args.k, filters=filters).hits
            _out([h.to_json() for h in hits])
        return 0
    if not args.query:
        print("请给出检索词，或使用 --jsonl", file=sys.stderr)
        return 2
    hits = idx.search(args.query, k=args.k, filters=filters).hits
    if args.json:
        _out([h.to_json() for h in hits])
        return 0
    for h in hits:
        c = h.clause
        print(f"[{h.score:.3f}] {h.document.title if h.document else ''} › {c.label}")
        print(f"  {c.text.replace(chr(9), ' ')[:300]}")
        extra = c.field_summary()
        if extra:
            print("  " + "；".join(extra))
        if c.addresses_assistant:
            print("  ⚠ 疑似指令：此条款的文字像是写给问答程序的，不会用作回答依据")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    bot = wiring.make_bot(_settings(args))
    if args.jsonl:
        for line in sys.stdin:
            if not line.strip():
                continue
            q = json.loads(line)
            ans = bot.ask(q["question"], history=q.get("history") or [])
            _out(ans.to_json())
        return 0
    if not args.question:
        print("请给出问题，或使用 --jsonl", file=sys.stderr)
        return 2
    ans = bot.ask(args.question, history=args.history or [])
    if args.json:
        _out(ans.to_json())
    else:
        print(_answer_text(ans, bot.render_text(ans)))
    return 0


def _answer_text(ans: Answer, text: str) -> str:
    """The answer as the terminal shows it: a model's answer under its generated-content label, and why a
    configured model's answer was not used."""
    if ans.label:
        return f"【{GENERATED_LABEL}】由生成式模型根据所引条款撰写，已逐句核对；请以条款原文为准。\n{text}"
    if ans.fallback_reason:
        return f"{text}\n（生成式回答未采用：{ans.fallback_reason}；以上为条款原文摘录。）"
    return text


def cmd_eval(args: argparse.Namespace) -> int:
    # matplotlib and the evaluation are loaded by this command only: other commands start faster
    from eval import runner as eval_runner

    return eval_runner.main(args, _settings(args), make_bot=wiring.make_bot, ingest=wiring.ingest_paths)


def cmd_serve(args: argparse.Namespace) -> int:
    # the web stack (gradio, ~3 s to import) is loaded by this command only
    from policybot import web

    s = _settings(args)
    host, port = args.host or s.host, args.port or s.port
    print(f"policybot: 政策问答 http://{host}:{port}/  窗口查询 http://{host}:{port}/staff/", file=sys.stderr)
    web.serve(s, host=host, port=port)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="policybot", description="政策文件问答：入库、检索、问答、评测、服务")
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--index", help="index directory (default .policybot or $POLICYBOT_INDEX_DIR)")

    sp = sub.add_parser("ingest", help="add or update policy files in the index")
    sp.add_argument("paths", nargs="+")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--include", action="append", metavar="PATTERN",
                    help="also read files in the folders whose name matches (e.g. 'README*'); repeatable")
    common(sp)
    sp.set_defaults(fn=cmd_ingest)

    sp = sub.add_parser("remove", help="take documents out of the index (the files are left alone)")
    sp.add_argument("documents", nargs="+", metavar="DOC", help="doc_id, 文号, file name or title (or part of it)")
    sp.add_argument("--all", action="store_true", help="remove every document a name matches")
    sp.add_argument("--json", action="store_true")
    common(sp)
    sp.set_defaults(fn=cmd_remove)

    sp = sub.add_parser("docs", help="the document catalog")
    sp.add_argument("--json", action="store_true")
    common(sp)
    sp.set_defaults(fn=cmd_docs)

    sp = sub.add_parser("search", help="staff lookup: clauses with their fields")
    sp.add_argument("query", nargs="?")
    sp.add_argument("--region")
    sp.add_argument("--doc")
    sp.add_argument("--kind")
    sp.add_argument("--k", type=int, default=10)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--jsonl", action="store_true")
    common(sp)
    sp.set_defaults(fn=cmd_search)

    sp = sub.add_parser("ask", help="ask a question")
    sp.add_argument("question", nargs="?")
    sp.add_argument("--history", action="append")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--jsonl", action="store_true")
    common(sp)
    sp.set_defaults(fn=cmd_ask)

    sp = sub.add_parser("eval", help="score the bot on the question sets (eval/sets/sets.toml)")
    sp.add_argument("--set", action="append", help="run only this set (repeatable); default: every set")
    sp.add_argument("--gold", action="append", help="an ad-hoc question file instead of the sets")
    sp.add_argument("--corpus", help="the corpus an ad-hoc --gold file was written for (default data/policies)")
    sp.add_argument("--report")
    sp.add_argument("--min-accuracy", type=float)
    sp.add_argument("--min-citation-verbatim", type=float)
    sp.add_argument("--min-refusal-recall", type=float)
    sp.add_argument("--no-baseline", action="store_true", help="skip the naive RAG baseline comparison")
    common(sp)
    sp.set_defaults(fn=cmd_eval)

    sp = sub.add_parser("serve", help="the web app and HTTP API")
    sp.add_argument("--host")
    sp.add_argument("--port", type=int)
    common(sp)
    sp.set_defaults(fn=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("POLICYBOT_LOG_LEVEL", "WARNING"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    mask_logs()  # every log line, whoever writes it, with personal numbers masked
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except ConfigError as e:
        print(f"配置错误：{e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
