"""Run gradescope/run_autograder with the real grader, as Gradescope would.

Each case lays out a temporary folder like Gradescope's /autograder, with
submission/ and results/, and points run_autograder at it and at this
checkout through AUTOGRADER_ROOT, AUTOGRADER_SOURCE and AUTOGRADER_PYTHON.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.rubric import RUBRIC

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUN_AUTOGRADER = PROJECT_ROOT / "gradescope" / "run_autograder"
# A syntax error stops every task group at import, so the run takes seconds
# and still grades the reflection answers.
FIXTURE = PROJECT_ROOT / "fixtures" / "submissions" / "syntax_error"
RESULTS_OPTION = "--gradescope-results"
# Below the module's pytest timeout, so that an overrun fails with the output.
RUN_TIMEOUT_S = 280


@pytest.fixture(scope="module")
def results_option() -> None:
    """Skip until the command line accepts --gradescope-results."""
    completed = subprocess.run(
        [sys.executable, "-m", "grader", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if RESULTS_OPTION not in completed.stdout:
        pytest.skip(f"python -m grader has no {RESULTS_OPTION} option yet")


def run_autograder(root: Path) -> dict:
    """Run run_autograder on root and return its results.json."""
    (root / "results").mkdir(parents=True)
    environment = {
        **os.environ,
        "AUTOGRADER_ROOT": str(root),
        "AUTOGRADER_SOURCE": str(PROJECT_ROOT),
        "AUTOGRADER_PYTHON": sys.executable,
    }
    completed = subprocess.run(
        [str(RUN_AUTOGRADER)],
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def missing(results_option: None, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Return the results for an empty submission folder: no training runs."""
    root = tmp_path_factory.mktemp("missing")
    (root / "submission").mkdir()
    return run_autograder(root)


@pytest.fixture(scope="module")
def syntax_error(
    results_option: None, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """Return the results for a submission with a syntax error."""
    root = tmp_path_factory.mktemp("syntax_error")
    (root / "submission").mkdir()
    shutil.copy(FIXTURE / "tensorboard_starter.py", root / "submission")
    return run_autograder(root)


def test_missing_score(missing: dict) -> None:
    assert missing["score"] == 0


def test_missing_tests(missing: dict) -> None:
    assert len(missing["tests"]) == len(RUBRIC)


def test_missing_max_scores(missing: dict) -> None:
    assert sum(test["max_score"] for test in missing["tests"]) == 100


def test_missing_all_failed(missing: dict) -> None:
    assert {test["status"] for test in missing["tests"]} == {"failed"}


def test_syntax_error_score(syntax_error: dict) -> None:
    assert syntax_error["score"] == 12


def test_syntax_error_tests(syntax_error: dict) -> None:
    assert len(syntax_error["tests"]) == 26


def test_syntax_error_max_scores(syntax_error: dict) -> None:
    assert sum(test["max_score"] for test in syntax_error["tests"]) == 100


def test_syntax_error_passed_tests(syntax_error: dict) -> None:
    passed = [
        test["name"] for test in syntax_error["tests"] if test["status"] == "passed"
    ]
    expected = [f"reflection_{number}" for number in range(1, 5)]
    assert [name.split(":")[0] for name in passed] == expected
