"""Fixtures that run the grader as a subprocess on a submission."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
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
    """The exit code, results.json and output of one ``python -m grader`` run."""

    exit_code: int
    results: dict
    output: str


Grader = Callable[[Path, Mapping[str, float]], Grade]


@pytest.fixture
def grade(tmp_path: Path) -> Grader:
    """Return a function that grades a submission folder into tmp_path."""

    def grade_submission(submission: Path, time_limits: Mapping[str, float]) -> Grade:
        command = [
            sys.executable, "-m", "grader", str(submission),
            "--report-dir", str(tmp_path),
            "--color", "never",
        ]  # fmt: skip
        for group, seconds in time_limits.items():
            command += ["--time-limit", f"{group}={seconds}"]
        exit_code, output = run_to_end(command)
        results_path = tmp_path / "results.json"
        assert results_path.is_file(), f"the grader wrote no results.json:\n{output}"
        results = json.loads(results_path.read_text(encoding="utf-8"))
        return Grade(exit_code, results, output)

    return grade_submission


def run_to_end(command: list[str]) -> tuple[int, str]:
    """Run the grader and return its exit code and output.

    Fail the test when the grader overruns GRADE_TIMEOUT_S.
    """
    with subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
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
