"""Starting and stopping the servers and browsers that tests start."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import chromadb
import httpx
import pytest
from chromadb.config import Settings as ChromaSettings

CHROMA = Path(sys.executable).with_name("chroma")  # console script of the chromadb package


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


@contextmanager
def running_chroma(workdir: Path) -> Iterator[int]:
    """A real `chroma run` server with its data under workdir; yields its port, stops it afterwards."""
    if not CHROMA.exists():
        pytest.skip(f"no chroma console script at {CHROMA}")
    port = free_port()
    log = workdir / "chroma-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(CHROMA), "run", "--path", str(workdir / "chroma-server"), "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    try:
        wait_for_heartbeat(port, proc, log)
        yield port
    finally:
        stop(proc, timeout=15)
