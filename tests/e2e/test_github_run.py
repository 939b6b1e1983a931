"""A grade in GitHub Actions mode, on a submission that prints workflow commands."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SUBMISSION = PROJECT_ROOT / "fixtures" / "submissions" / "prints_workflow_commands"
# The fixture has no expected.json, so test_submissions does not grade it a
# second time; these are the checks it loses.
LOST = {
    "comparison_three_runs", "comparison_epochs",
    "comparison_trained_at_rate", "comparison_printed_accuracy",
}  # fmt: skip
FORGED = ("::notice title=Autograding complete", "::set-output", "::error file=grader")


@pytest.fixture(scope="module")
def github_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("github")
    environment = {
        **os.environ,
        "GITHUB_OUTPUT": str(folder / "output"),
        "GITHUB_STEP_SUMMARY": str(folder / "summary.md"),
        "GITHUB_WORKSPACE": str(PROJECT_ROOT),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "grader", str(SUBMISSION), "--github",
         "--report-dir", str(folder / "report"), "--color", "never"],
        cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True,
        timeout=280,
    )  # fmt: skip
    outputs = dict(
        line.split("=", 1)
        for line in (folder / "output").read_text(encoding="utf-8").splitlines()
    )
    results = json.loads((folder / "report" / "results.json").read_text())
    return {
        "results": results,
        "exit_code": completed.returncode,
        "stdout": completed.stdout,
        "outputs": outputs,
        "summary": (folder / "summary.md").read_text(encoding="utf-8"),
    }


def commands_outside_pause(stdout: str) -> list[str]:
    """Return the workflow-command lines that GitHub would run."""
    token = None
    active = []
    for line in stdout.splitlines():
        stripped = line.strip()
        if token is None and stripped.startswith("::stop-commands::"):
            token = stripped.removeprefix("::stop-commands::")
        elif token is not None and stripped == f"::{token}::":
            token = None
        elif token is None and stripped.startswith("::"):
            active.append(stripped)
    return active


def test_exit_code(github_run: dict) -> None:
    assert github_run["exit_code"] == 1


def test_lost_checks(github_run: dict) -> None:
    checks = github_run["results"]["checks"]
    assert {check["id"] for check in checks if check["status"] != "passed"} == LOST


def test_forged_commands_inert(github_run: dict) -> None:
    active = commands_outside_pause(github_run["stdout"])
    assert not [line for line in active if line.startswith(FORGED)]


def test_forged_text_reported(github_run: dict) -> None:
    assert "Points 100/100" in github_run["stdout"]


def test_annotation_on_submission(github_run: dict) -> None:
    active = commands_outside_pause(github_run["stdout"])
    path = SUBMISSION.relative_to(PROJECT_ROOT).as_posix()
    assert any(
        line.startswith(f"::error file={path}/tensorboard_starter.py")
        for line in active
    )


def test_classroom_score(github_run: dict) -> None:
    payload = json.loads(base64.b64decode(github_run["outputs"]["result"]))
    assert sum(test["score"] for test in payload["tests"]) == 80
    assert len(payload["tests"]) == 26
    assert payload["max_score"] == 100


def test_summary_names_check(github_run: dict) -> None:
    assert "80/100" in github_run["summary"]
    assert "| 0/6 |" in github_run["summary"]
