"""Load test of POST /api/ask: N concurrent clients × M questions each, over loopback only.

    python bench/load.py                      # starts `policybot serve` on a free port with the sample index
    python bench/load.py --url http://127.0.0.1:7860 --clients 20 --questions 10

Reports errors, p50/p95/max latency and throughput. Every loop is bounded by count and time, and
only loopback addresses are accepted as targets.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import logging
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

log = logging.getLogger("bench.load")
ROOT = Path(__file__).resolve().parent.parent
QUESTIONS: list[tuple[str, list[str]]] = [
    ("奉节县“无废奉节”信息化平台由哪个单位牵头、什么时候完成？", []),
    ("我们在万州新注册的软件企业，首次纳入规上统计能拿多少奖励？", []),
    ("5G基站要建多少个？", []),
    ("什么时候完成？", ["奉节县“无废奉节”信息化平台由哪个单位牵头？"]),
    ("九龙坡区软件产业有哪些扶持政策？", []),
    ("重庆市数字产业发展规划的目标是什么？", []),
    ("北京的软件企业有什么补贴？", []),  # outside the corpus: a refusal
    ("智慧交通建设由哪个部门负责？", []),
]


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    refused: int = 0


def check_loopback(url: str) -> None:
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"refusing to load-test {host!r}: only loopback addresses (127.0.0.0/8, ::1, localhost)")


async def client_loop(http: httpx.AsyncClient, url: str, n: int, offset: int, res: Result, stop_at: float) -> None:
    for i in range(n):
        if time.monotonic() > stop_at:
            res.errors["time budget exceeded"] += n - i
            return
        q, hist = QUESTIONS[(offset + i) % len(QUESTIONS)]
        t = time.perf_counter()
        try:
            r = await http.post(url + "/api/ask", json={"question": q, "history": hist})
        except httpx.HTTPError as e:
            res.errors[type(e).__name__] += 1
            continue
        dt = time.perf_counter() - t
        if r.status_code != 200:
            res.errors[f"HTTP {r.status_code}"] += 1
            continue
        res.latencies.append(dt)
        res.refused += bool(r.json().get("refused"))


async def run_load(url: str, clients: int, questions: int, budget_s: float) -> dict[str, object]:
    res = Result()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        warm = await http.post(url + "/api/ask", json={"question": QUESTIONS[0][0], "history": []})
        warm.raise_for_status()
        t0 = time.perf_counter()
        stop_at = time.monotonic() + budget_s
        await asyncio.gather(*(client_loop(http, url, questions, c, res, stop_at) for c in range(clients)))
        wall = time.perf_counter() - t0
    lat = sorted(res.latencies)
    ok = len(lat)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, round(p / 100 * (len(lat) - 1)))] * 1000 if lat else float("nan")

    return {
        "url": url,
        "clients": clients,
        "questions_per_client": questions,
        "requests": clients * questions,
        "ok": ok,
        "errors": dict(res.errors),
        "refused_answers": res.refused,
        "wall_s": round(wall, 2),
        "throughput_rps": round(ok / wall, 2) if wall else 0.0,
        "latency_ms": {
            "p50": round(pct(50), 1),
            "p95": round(pct(95), 1),
            "max": round(lat[-1] * 1000, 1) if lat else None,
            "mean": round(statistics.fmean(lat) * 1000, 1) if lat else None,
        },
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(index_dir: Path, port: int, log_file: Path) -> subprocess.Popen[bytes]:
    """`policybot serve` in a child process, so the load generator does not share its GIL."""
    env = {**os.environ, "POLICYBOT_INDEX_DIR": str(index_dir), "POLICYBOT_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-m", "policybot.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--index", str(index_dir)]
    with log_file.open("wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("server did not become healthy in time")


def ensure_index(index_dir: Path | None, work: Path) -> Path:
    """The given index, or a fresh one of data/policies (built once, ~1–3 minutes on 2 cores)."""
    if index_dir is not None:
        return index_dir
    idx = work / "index"
    log.info("building a sample index in %s", idx)
    subprocess.run([sys.executable, "-m", "policybot.cli", "ingest", str(ROOT / "data" / "policies"),
                    "--index", str(idx), "--quiet"], cwd=ROOT, check=True)
    return idx


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="a running server (loopback only); default: start one")
    p.add_argument("--index", type=Path, help="index for the started server (default: build one of data/policies)")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--questions", type=int, default=10, help="questions per client")
    p.add_argument("--budget", type=float, default=600, help="stop sending after this many seconds")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would drown the report
    if not (1 <= args.clients <= 200 and 1 <= args.questions <= 1000):
        raise SystemExit("clients must be 1–200 and questions 1–1000")

    work = Path(tempfile.mkdtemp(prefix="policybot-load-"))
    proc = None
    try:
        if args.url:
            url = args.url.rstrip("/")
        else:
            index_dir = ensure_index(args.index, work)
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            proc = start_server(index_dir, port, work / "server.log")
            wait_healthy(url, proc)
        check_loopback(url)
        log.info("load: %d clients × %d questions against %s", args.clients, args.questions, url)
        report = asyncio.run(run_load(url, args.clients, args.questions, args.budget))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    else:
        lat = report["latency_ms"]
        sys.stdout.write(
            f"{report['ok']}/{report['requests']} ok, errors {report['errors'] or 0}, "
            f"{report['refused_answers']} refusals (expected for out-of-corpus questions)\n"
            f"latency p50 {lat['p50']} ms, p95 {lat['p95']} ms, max {lat['max']} ms; "  # type: ignore[index]
            f"throughput {report['throughput_rps']} req/s over {report['wall_s']} s\n"
        )
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
