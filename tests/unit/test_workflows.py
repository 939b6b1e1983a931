"""Tests of the GitHub Actions workflows: actionlint, then key facts read from YAML."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).parents[2] / ".github" / "workflows"
CLASSROOM = WORKFLOWS / "classroom.yml"
CI = WORKFLOWS / "ci.yml"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
BOT_CONDITION = "github.actor != 'github-classroom[bot]'"


def find_actionlint() -> str | None:
    beside_python = Path(sys.executable).with_name("actionlint")
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("actionlint")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    # YAML 1.1, which PyYAML reads, takes the key `on` for the boolean true.
    value = workflow.get("on", workflow.get(True))
    return value if isinstance(value, dict) else {name: None for name in value}


def steps(workflow: dict) -> list[dict]:
    (job,) = workflow["jobs"].values()
    return job["steps"]


def step_using(workflow: dict, action: str) -> dict:
    """Return the first step that uses ``action`` at any version."""
    return next(
        step
        for step in steps(workflow)
        if str(step.get("uses", "")).split("@")[0] == action.split("@")[0]
    )


def step_with_id(workflow: dict, step_id: str) -> dict:
    return next(step for step in steps(workflow) if step.get("id") == step_id)


def step_named(workflow: dict, words: str) -> dict:
    return next(step for step in steps(workflow) if words in step.get("name", ""))


@pytest.mark.parametrize("path", [CLASSROOM, CI], ids=lambda path: path.name)
def test_actionlint(path: Path) -> None:
    actionlint = find_actionlint()
    if actionlint is None:
        pytest.skip(
            "actionlint is neither beside the Python running the tests nor on PATH"
        )
    run = subprocess.run(
        [actionlint, "-no-color", str(path)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("event", ["push", "pull_request", "workflow_dispatch"])
def test_classroom_trigger(event: str) -> None:
    assert event in triggers(load(CLASSROOM))


def test_classroom_ignores_badges_branch() -> None:
    assert triggers(load(CLASSROOM))["push"]["branches-ignore"] == ["badges"]


def test_classroom_skips_bot() -> None:
    (job,) = load(CLASSROOM)["jobs"].values()
    assert BOT_CONDITION in job["if"]


def test_classroom_may_push_badge() -> None:
    assert load(CLASSROOM)["permissions"]["contents"] == "write"


def test_grade_step_flag() -> None:
    assert "--github" in step_with_id(load(CLASSROOM), "grade")["run"]


def test_grade_step_never_fails() -> None:
    assert "|| status=$?" in step_with_id(load(CLASSROOM), "grade")["run"]


def test_grade_step_runs_make() -> None:
    assert "make -C" in step_with_id(load(CLASSROOM), "grade")["run"]


def test_reporter_runs_always() -> None:
    assert step_using(load(CLASSROOM), REPORTER)["if"] == "always()"


def test_reporter_runners() -> None:
    assert step_using(load(CLASSROOM), REPORTER)["with"]["runners"] == "grade"


def test_reporter_results_variable() -> None:
    env = step_using(load(CLASSROOM), REPORTER)["env"]
    assert env == {"GRADE_RESULTS": "${{ steps.grade.outputs.result }}"}


def test_upload_runs_always() -> None:
    assert step_using(load(CLASSROOM), "actions/upload-artifact")["if"] == "always()"


def test_upload_path() -> None:
    upload = step_using(load(CLASSROOM), "actions/upload-artifact")
    assert upload["with"]["path"] == "grade-report/"


def test_badge_commit_skips_ci() -> None:
    assert "[skip ci]" in step_named(load(CLASSROOM), "badges branch")["run"]


@pytest.mark.parametrize("key", ["GRADER_REPOSITORY", "GRADER_REF"])
def test_grader_pin_variables(key: str) -> None:
    assert load(CLASSROOM)["env"][key] == ""


def test_pinned_checkout_repository() -> None:
    checkout = step_named(load(CLASSROOM), "pinned grader")
    assert checkout["with"]["repository"] == "${{ env.GRADER_REPOSITORY }}"


def test_pinned_checkout_ref() -> None:
    checkout = step_named(load(CLASSROOM), "pinned grader")
    assert checkout["with"]["ref"] == "${{ env.GRADER_REF }}"


@pytest.mark.parametrize("path", [CLASSROOM, CI], ids=lambda path: path.name)
def test_pip_cache(path: Path) -> None:
    setup = step_using(load(path), "actions/setup-python")
    assert setup["with"]["cache"] == "pip"


@pytest.mark.parametrize("path", [CLASSROOM, CI], ids=lambda path: path.name)
def test_pip_cache_key(path: Path) -> None:
    setup = step_using(load(path), "actions/setup-python")
    assert setup["with"]["cache-dependency-path"].endswith("pyproject.toml")


@pytest.mark.parametrize("event", ["push", "pull_request"])
def test_ci_trigger(event: str) -> None:
    assert event in triggers(load(CI))


def test_ci_runs_make_test() -> None:
    assert [step["run"] for step in steps(load(CI)) if "run" in step] == ["make test"]
