"""Fixtures that run the grader as a subprocess on a submission."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Kept below the tests' pytest.mark.timeout, so that a grade that overruns fails
# the test with the grader's output instead of being cut off by pytest-timeout.
GRADE_TIMEOUT_S = 280
# Time the grader gets after SIGINT to kill its task groups, which run in
# process sessions of their own and would outlive a SIGKILL of the grader.
INTERRUPT_GRACE_S = 10


@dataclass(frozen=True)
class Grade:
    """The exit code, results.json, output and duration of one grader run."""

    exit_code: int
    results: dict
    output: str
    duration_s: float = 0.0


@dataclass(frozen=True)
class GradeOptions:
    """How to run the grader: limits, extra environment, and where it lives."""

    time_limits: Mapping[str, float] = field(default_factory=dict)
    cpu_limits: Mapping[str, float] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    # The folder that contains the grader package; the project itself by default.
    grader_root: Path = PROJECT_ROOT


Grader = Callable[[Path, GradeOptions], Grade]


@pytest.fixture
def grade(tmp_path: Path) -> Grader:
    """Return a function that grades a submission folder into tmp_path/report."""

    def grade_submission(submission: Path, options: GradeOptions) -> Grade:
        report = tmp_path / "report"
        command = [
            sys.executable, "-m", "grader", str(submission),
            "--report-dir", str(report),
            "--color", "never",
        ]  # fmt: skip
        for group, seconds in options.time_limits.items():
            command += ["--time-limit", f"{group}={seconds}"]
        for group, seconds in options.cpu_limits.items():
            command += ["--cpu-limit", f"{group}={seconds}"]
        # A temp folder per grade, so that grades in parallel test workers
        # can each check that the grader removed its own.
        temp = tmp_path / "temp"
        temp.mkdir(exist_ok=True)
        environment = {**os.environ, **options.environment, "TMPDIR": str(temp)}
        started = time.monotonic()
        exit_code, output = run_to_end(command, options.grader_root, environment)
        duration = time.monotonic() - started
        results_path = report / "results.json"
        assert results_path.is_file(), f"the grader wrote no results.json:\n{output}"
        results = json.loads(results_path.read_text(encoding="utf-8"))
        return Grade(exit_code, results, output, duration)

    return grade_submission


def run_to_end(
    command: list[str],
    cwd: Path = PROJECT_ROOT,
    environment: Mapping[str, str] | None = None,
) -> tuple[int, str]:
    """Run the grader and return its exit code and output.

    Fail the test when the grader overruns GRADE_TIMEOUT_S.
    """
    with subprocess.Popen(
        command,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as process:
        try:
            output, _ = process.communicate(timeout=GRADE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            try:
                output, _ = process.communicate(timeout=INTERRUPT_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
            pytest.fail(
                f"the grader did not finish within {GRADE_TIMEOUT_S} s:\n{output}"
            )
    return process.returncode, output


def driver_processes(submission: Path) -> list[int]:
    """Return the ids of running task-group processes that grade ``submission``."""
    wanted = str(submission.resolve())
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        text = [part.decode(errors="replace") for part in command]
        if any(part.endswith("driver.py") for part in text) and any(
            wanted in part for part in text
        ):
            pids.append(int(entry.name))
    return pids
