"""Crash safety: SIGKILL `policybot ingest` at random moments; the index must always open and answer.

Builds an index of two small sample documents (A, B) and records the hybrid top-5 of five fixed queries
restricted to A and B. Then, N times, adds a new document C_i (the 万州 plan re-titled for another district,
so each of its clauses needs a fresh embedding), starts `python -m policybot.cli ingest`, and SIGKILLs it
after a random delay between 0 and the duration of a complete ingest (measured once at the start).

After every kill a fresh PolicyIndex must open, every clause of its generation must have a vector in
Chroma, and its top-5 must equal
  - the state before that ingest, when CURRENT still names the old generation, or
  - the state of a complete ingest of the same files, when the kill came after the swap.
The second is computed from a copy of the index taken before the kill, only when needed: adding C changes
BM25 statistics for every clause, so "after" can differ from "before" even for queries restricted to A, B.
The document of a round that left the old generation is deleted again, so that every ingest has the same
work (one new document) and the delays cover all its phases. Each line names the phase a kill hit: before
the Chroma upsert, after it but before the swap (orphan vectors appeared), or after the swap.
Finally a normal ingest must succeed and leave exactly one generation and no orphan vectors.

    .venv/bin/python bench/kill_ingest.py [--kills 20] [--seed 0] [--workdir DIR] [--keep]

Exit status 0 when every kill left a consistent index; 1 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

from core.retrieval import Filters  # noqa: E402
from core.settings import Settings  # noqa: E402
from policybot.wiring import get_embeddings, ingest_paths  # noqa: E402
from vectorstore import catalog  # noqa: E402
from vectorstore.dense import copy_vector_cache  # noqa: E402
from vectorstore.embeddings import NamedEmbeddings  # noqa: E402
from vectorstore.search import PolicyIndex  # noqa: E402

POLICIES = ROOT / "data" / "policies"
DOC_A = "jiulongpo-mantianxing-software-plan-draft.txt"
DOC_B = "fengjie-2026-software-info-industry-action-plan.txt"
DOC_C = "wanzhou-2023-mantianxing-digital-economy-plan.txt"
TODAY = dt.date(2026, 11, 22)
QUERIES = (
    "软信企业 奖励 补助",
    "5G基站 千兆光网 建设",
    "新增软信从业人员",
    "数据开放 公共数据",
    "人工智能 智能体 应用场景",
)
DISTRICTS = (
    "渝中", "江北", "南岸", "沙坪坝", "大渡口", "北碚", "渝北", "巴南", "长寿", "江津", "合川", "永川",
    "南川", "綦江", "大足", "璧山", "铜梁", "潼南", "荣昌", "开州", "梁平", "武隆", "涪陵", "黔江",
)

State = dict[str, list[str]]


@dataclass
class Snapshot:
    generation: str
    top5: State
    missing_vectors: int  # clauses of the current generation without a vector in Chroma
    orphan_vectors: int  # vectors of no clause of the current generation: a write got past the upsert


def settings_for(index_dir: Path) -> Settings:
    return Settings(index_dir=index_dir, today=TODAY)


def variant_of_c(i: int) -> str:
    """The 万州 plan moved to another district: a new title changes every clause's embedding text."""
    name = DISTRICTS[i % len(DISTRICTS)] + (str(i // len(DISTRICTS)) if i >= len(DISTRICTS) else "")
    return (POLICIES / DOC_C).read_text("utf-8").replace("万州", name)


def snapshot(index_dir: Path, embeddings: NamedEmbeddings, doc_ids: list[str]) -> Snapshot:
    idx = PolicyIndex(index_dir, embeddings=embeddings)  # a fresh reader, as a restarted app would open
    filters = Filters(doc_ids=doc_ids)
    top5 = {q: [h.clause.clause_id for h in idx.search(q, k=5, filters=filters).hits] for q in QUERIES}
    ids = idx.store.ids()
    return Snapshot(idx.generation, top5, len(set(idx.by_id) - ids), len(ids - set(idx.by_id)))


def complete_ingest_state(
    before_copy: Path, live_index: Path, docs: Path, embeddings: NamedEmbeddings, doc_ids: list[str], scratch: Path
) -> Snapshot:
    # a new path each time: this process caches a Chroma client per path, and one whose files were
    # deleted and copied anew under the same name fails with SQLite's "readonly database" (DBMOVED)
    shutil.copytree(before_copy, scratch)
    copy_vector_cache(live_index, scratch)
    report = ingest_paths([docs], settings=settings_for(scratch))
    if report.failed:
        raise RuntimeError(f"reference ingest failed: {report.failed}")
    return snapshot(scratch, embeddings, doc_ids)


def start_cli_ingest(docs: Path, index_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "POLICYBOT_TODAY": TODAY.isoformat()}
    env.pop("POLICYBOT_CHROMA_HOST", None)
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "policybot.cli", "ingest", str(docs), "--index", str(index_dir), "--quiet"],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )


def run(kills: int, seed: int, work: Path) -> int:
    rng = random.Random(seed)
    docs, index_dir, before_copy = work / "docs", work / "index", work / "before"
    docs.mkdir(parents=True)
    for name in (DOC_A, DOC_B):
        shutil.copy(POLICIES / name, docs / name)
    t0 = time.perf_counter()
    report = ingest_paths([docs], settings=settings_for(index_dir))
    embeddings = get_embeddings(settings_for(index_dir))
    idx = PolicyIndex(index_dir, embeddings=embeddings)
    doc_ids = sorted(idx.docs)
    print(f"initial index: {report.documents} documents, {report.clauses} clauses in {time.perf_counter() - t0:.1f}s")

    # one complete CLI ingest (adding C_0) sets the range of kill delays
    (docs / "extra-00.txt").write_text(variant_of_c(0), encoding="utf-8")
    t0 = time.perf_counter()
    proc = start_cli_ingest(docs, index_dir, work / "ingest-00.log")
    if proc.wait() != 0:
        print((work / "ingest-00.log").read_text("utf-8", errors="replace"))
        raise RuntimeError("calibration ingest failed")
    typical = time.perf_counter() - t0
    state = snapshot(index_dir, embeddings, doc_ids)
    print(f"complete CLI ingest of one new document: {typical:.2f}s (kill delays are drawn from [0, {typical:.2f}])")

    failures: list[str] = []
    phases: dict[str, int] = {}
    finished_first = 0
    for i in range(1, kills + 1):
        extra = docs / f"extra-{i:02d}.txt"
        extra.write_text(variant_of_c(i), encoding="utf-8")
        shutil.rmtree(before_copy, ignore_errors=True)
        shutil.copytree(index_dir, before_copy)
        before = state
        delay = rng.uniform(0.0, typical)
        proc = start_cli_ingest(docs, index_dir, work / f"ingest-{i:02d}.log")
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            os.kill(proc.pid, signal.SIGKILL)
        code = proc.wait()
        how = "killed" if killed else f"finished first (exit {code})"
        try:
            state = snapshot(index_dir, embeddings, doc_ids)
        except Exception as e:  # noqa: BLE001 - any failure to open is the finding this script reports
            failures.append(f"kill {i}: the index does not open: {e!r}")
            print(f"kill {i:2d}/{kills}: delay {delay:5.2f}s, {how}: FAIL, does not open: {e!r}")
            # go on from the last good state under a new path, for the reason given in complete_ingest_state
            index_dir = work / f"index-restored-{i:02d}"
            shutil.copytree(before_copy, index_dir)
            extra.unlink()
            state = before
            continue
        if state.generation == before.generation:
            outcome, expected = "old generation", before
            # orphans that were not there before: the kill came between the Chroma upsert and the swap
            phase = "after upsert, before swap" if state.orphan_vectors > before.orphan_vectors else "before upsert"
        else:
            outcome, phase = "new generation", "after swap"
            expected = complete_ingest_state(before_copy, index_dir, docs, embeddings, doc_ids, work / f"after-{i:02d}")
        problems = []
        if not killed and code != 0:
            problems.append(f"the ingest failed by itself (exit {code}), see {work / f'ingest-{i:02d}.log'}")
        if state.top5 != expected.top5:
            diff = [q for q in QUERIES if state.top5[q] != expected.top5[q]]
            problems.append(f"top-5 differs from the {outcome} reference for {diff}")
        if state.missing_vectors:
            problems.append(f"{state.missing_vectors} clauses have no vector")
        if outcome == "old generation":
            # the next round adds one new document again: left in place, uncommitted documents would pile up
            # and make every later ingest longer than the delays drawn, so that all kills hit the embedding
            extra.unlink()
        if problems:
            failures.append(f"kill {i}: " + "; ".join(problems))
            print(f"kill {i:2d}/{kills}: delay {delay:5.2f}s, {how} {phase}: FAIL, {'; '.join(problems)}")
        else:
            if killed:
                phases[phase] = phases.get(phase, 0) + 1
            else:
                finished_first += 1
            print(f"kill {i:2d}/{kills}: delay {delay:5.2f}s, {how} {phase}: ok, {outcome} ({state.generation})")

    t0 = time.perf_counter()
    proc = start_cli_ingest(docs, index_dir, work / "ingest-final.log")
    code = proc.wait()
    final = PolicyIndex(index_dir, embeddings=embeddings)
    expected_docs = 2 + len(list(docs.glob("extra-*.txt")))
    gens = sorted(p.name for p in (index_dir / catalog.GENERATIONS).iterdir())
    orphans = len(final.store.ids() - set(final.by_id))
    missing = len(set(final.by_id) - final.store.ids())
    clean = gens == [final.generation] and not (orphans or missing)
    final_ok = code == 0 and len(final.docs) == expected_docs and clean
    print(
        f"final ingest: exit {code} in {time.perf_counter() - t0:.1f}s, {len(final.docs)}/{expected_docs} documents, "
        f"{len(final.clauses)} clauses, generations on disk {len(gens)}, orphan vectors {orphans}, "
        f"clauses without vector {missing}: {'ok' if final_ok else 'FAIL'}"
    )
    if not final_ok:
        failures.append("final ingest did not leave a complete, clean index")
        print((work / "ingest-final.log").read_text("utf-8", errors="replace")[-2000:])
    hit = ", ".join(f"{n} {ph}" for ph, n in phases.items()) or "none"
    print(
        f"summary: {kills} rounds, {sum(phases.values())} killed ({hit}), "
        f"{finished_first} finished before the kill, {len(failures)} failures"
    )
    for f in failures:
        print(f"  {f}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", type=Path, help="empty or missing directory to work in (default: a temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="kill-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    if any(work.iterdir()):
        p.error(f"{work} is not empty")
    try:
        return run(args.kills, args.seed, work)
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
