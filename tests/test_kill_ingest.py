"""bench/kill_ingest.py with a few kills: SIGKILLed ingests never leave an index that fails to open or answer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_killed_ingests_leave_a_consistent_index(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "kill_ingest.py"), "--kills", "5", "--workdir", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    out = proc.stdout + proc.stderr[-3000:]
    assert proc.returncode == 0, out
    assert "summary: 5 rounds" in proc.stdout and ", 0 failures" in proc.stdout, out
    assert "final ingest: exit 0" in proc.stdout, out
