"""Stopping the grader stops the student's code too."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import driver_processes

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HANG = PROJECT_ROOT / "fixtures" / "submissions" / "hang"


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_sigterm_kills_task_groups(tmp_path: Path) -> None:
    # A copy of its own, so that a grade of the same fixture in another test
    # worker does not count.
    submission = shutil.copytree(HANG, tmp_path / "hang") / "tensorboard_starter.py"
    grader = subprocess.Popen(
        [sys.executable, "-m", "grader", str(submission.parent),
         "--report-dir", str(tmp_path / "report"), "--color", "never"],
        cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while len(driver_processes(submission)) < 3:
        assert time.monotonic() < deadline, "the task groups did not start"
        time.sleep(0.2)

    grader.send_signal(signal.SIGTERM)
    exit_code = grader.wait(timeout=30)

    assert exit_code == 128 + signal.SIGTERM
    assert driver_processes(submission) == []
