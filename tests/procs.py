"""Starting and stopping the servers and browsers that tests start."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import chromadb
import httpx
import pytest
from chromadb.config import Settings as ChromaSettings

CHROMA = Path(sys.executable).with_name("chroma")  # console script of the chromadb package
ROOT = Path(__file__).resolve().parent.parent


def stop(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate politely, then kill: a test must never leave a process behind."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_heartbeat(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            pytest.fail(f"chroma run exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            client = chromadb.HttpClient(
                host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
            )
            client.heartbeat()
            return
        except (ValueError, httpx.HTTPError, ConnectionError):  # not listening yet
            if time.monotonic() > deadline:
                pytest.fail(f"no heartbeat from chroma on port {port} after {timeout}s")
            time.sleep(0.2)


@dataclass
class ChromaProcess:
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> subprocess.Popen[bytes]:
        with (self.workdir / "chroma-server.log").open("ab") as out:
            self.proc = subprocess.Popen(
                [str(CHROMA), "run", "--path", str(self.workdir / "chroma-server"), "--host", "127.0.0.1",
                 "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        return self.proc

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc, timeout=15)

    def restart(self) -> subprocess.Popen[bytes]:
        """The same data on the same port again (a server that came back)."""
        self.stop()
        return self.start()


@contextmanager
def chroma_process(workdir: Path) -> Iterator[ChromaProcess]:
    """A real `chroma run` server with its data under workdir, which a test may stop and start again."""
    if not CHROMA.exists():
        pytest.skip(f"no chroma console script at {CHROMA}")
    chroma = ChromaProcess(free_port(), workdir)
    try:
        wait_for_heartbeat(chroma.port, chroma.start(), workdir / "chroma-server.log")
        yield chroma
    finally:
        chroma.stop()


@contextmanager
def running_chroma(workdir: Path) -> Iterator[int]:
    """A real `chroma run` server with its data under workdir; yields its port, stops it afterwards."""
    with chroma_process(workdir) as chroma:
        yield chroma.port


@dataclass
class AppProcess:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text("utf-8", errors="replace")


@contextmanager
def running_app(index_dir: Path, log: Path, env: dict[str, str], timeout: float = 120.0) -> Iterator[AppProcess]:
    """A real `policybot serve` process on a free loopback port, ready when /healthz answers."""
    port = free_port()
    full_env = {**os.environ, **env, "POLICYBOT_INDEX_DIR": str(index_dir), "POLICYBOT_LOG_LEVEL": "WARNING",
                "POLICYBOT_STAFF_OPEN_ON_LOOPBACK": "true"}  # loopback: staff pages without login
    full_env.pop("POLICYBOT_STAFF_USERS", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "policybot.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=full_env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-3000:]
                pytest.fail(f"policybot serve exited with {proc.returncode}:\n{tail}")
            try:
                if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"policybot serve not ready after {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield AppProcess(url, proc, log)
    finally:
        stop(proc)
