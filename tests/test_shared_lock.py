"""One writer at a time across the servers of a deployment: a lock held on the Chroma server, renewed
while its holder lives, taken over once it expires; and the command line with the server gone."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import IndexLocked
from tests.conftest import FENGJIE_2026, POLICIES, ROOT
from tests.procs import free_port, running_chroma
from vectorstore.dense import ChromaServer, copy_vector_cache
from vectorstore.search import DENSE_DOWN_WARNING
from vectorstore.shared import SharedWriterLock, shared_writer_lock

pytestmark = [pytest.mark.slow, pytest.mark.chroma_server]


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with running_chroma(tmp_path_factory.mktemp("lock-chroma")) as port:
        yield port


def _lock(port: int, deployment: str, *, ttl_s: float = 30.0, wait_s: float = 0.0) -> SharedWriterLock:
    server = ChromaServer("127.0.0.1", port)
    return SharedWriterLock(server.client(write=True), deployment, address=server.address, ttl_s=ttl_s, wait_s=wait_s)


def test_a_second_writer_is_refused_naming_the_holder_then_gets_the_lock(chroma_port: int) -> None:
    first = _lock(chroma_port, "lock-one")
    first.acquire()
    try:
        second = _lock(chroma_port, "lock-one", wait_s=1.0)
        t0 = time.perf_counter()
        with pytest.raises(IndexLocked, match="another server is writing to deployment 'lock-one'") as e:
            second.acquire()
        assert first.holder in str(e.value)
        assert 0.9 <= time.perf_counter() - t0 < 5
        _lock(chroma_port, "lock-other").acquire()  # deployments do not share a lock
    finally:
        first.release()
    again = _lock(chroma_port, "lock-one")
    again.acquire()
    assert again.still_held() and not first.still_held()
    again.release()


def test_a_waiting_writer_gets_the_lock_when_the_holder_releases_it(chroma_port: int) -> None:
    holder = _lock(chroma_port, "lock-wait")
    holder.acquire()
    import threading

    threading.Timer(1.0, holder.release).start()
    waiter = _lock(chroma_port, "lock-wait", wait_s=20.0)
    t0 = time.perf_counter()
    waiter.acquire()
    assert 0.5 < time.perf_counter() - t0 < 10
    assert waiter.still_held()
    waiter.release()


def test_a_live_holder_keeps_its_lock_and_a_dead_one_loses_it_after_expiry(chroma_port: int) -> None:
    live = _lock(chroma_port, "lock-ttl", ttl_s=1.5)
    live.acquire()
    time.sleep(3.0)  # two expiries' worth: the renewer kept it
    with pytest.raises(IndexLocked):
        _lock(chroma_port, "lock-ttl", ttl_s=1.5).acquire()
    # the holder "dies": its renewals stop, its lock is left behind
    live._stop.set()
    assert live._renewer is not None
    live._renewer.join(timeout=5)
    taker = _lock(chroma_port, "lock-ttl", ttl_s=30.0, wait_s=10.0)
    t0 = time.perf_counter()
    taker.acquire()
    assert time.perf_counter() - t0 < 5
    assert taker.still_held() and not live.still_held()
    taker.release()


def test_a_writer_that_lost_its_lock_publishes_nothing(chroma_port: int, tmp_path: Path, settings_factory) -> None:
    from indexing import service
    from vectorstore import catalog
    from vectorstore.shared import SharedCatalog

    server = ChromaServer("127.0.0.1", chroma_port)
    client = server.client(write=True)
    shared = SharedCatalog(client, "lock-lost", address=server.address)
    with shared_writer_lock(client, "lock-lost", address=server.address, ttl_s=30, wait_s=0) as lock:
        client.delete_collection(lock.name)  # another server took it over after an expiry
        gen = catalog.Generation(name="gen-lost")
        with pytest.raises(IndexLocked, match="nothing was published"):
            service.swap(tmp_path, None, gen, shared=shared, lock=lock)  # type: ignore[arg-type]
    assert shared.current_name() is None


def test_the_command_line_answers_from_bm25_when_the_server_is_gone(
    tmp_path: Path, sample_index_dir: Path, settings_factory
) -> None:
    """One line naming host and port on stderr, the answer with its warning on stdout, no traceback."""
    from policybot.wiring import ingest_paths

    index_dir = tmp_path / "index"
    copy_vector_cache(sample_index_dir, index_dir)
    with running_chroma(tmp_path) as port:
        settings = settings_factory(index_dir, chroma_host="127.0.0.1", chroma_port=port, deployment="cli-test")
        assert not ingest_paths([POLICIES / FENGJIE_2026], settings=settings).failed
    # the server is stopped; a free port stands for any host that does not answer
    for gone in (port, free_port()):
        env = {"POLICYBOT_INDEX_DIR": str(index_dir), "POLICYBOT_CHROMA_HOST": "127.0.0.1",
               "POLICYBOT_CHROMA_PORT": str(gone), "POLICYBOT_DEPLOYMENT": "cli-test", "POLICYBOT_TODAY": "2026-11-22"}
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "policybot.cli", "ask", "网剧产业归哪个单位牵头？", "--json"],
            capture_output=True, text=True, timeout=120, cwd=ROOT, env={**_base_env(), **env},
        )
        elapsed = time.perf_counter() - t0
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and f"127.0.0.1:{gone}" in lines[0] and "BM25" in lines[0], proc.stderr
        ans = json.loads(proc.stdout)
        assert not ans["refused"] and "县融媒体中心" in ans["answer"]
        assert DENSE_DOWN_WARNING in ans["warnings"]
        assert elapsed < 60
    # ingesting needs the server: a clear refusal, not a traceback
    proc = subprocess.run(
        [sys.executable, "-m", "policybot.cli", "ingest", str(POLICIES / FENGJIE_2026), "--quiet"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env={**_base_env(), **env},
    )
    assert proc.returncode == 3 and "Traceback" not in proc.stderr
    refused = "(ConnectError: [Errno 111] Connection refused)"
    assert proc.stderr.strip() == f"错误：Chroma server 127.0.0.1:{gone} is unreachable {refused}"


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
