"""Grade each fixture submission end to end and compare with what it should lose.

Each folder under fixtures/submissions/ that has an expected.json is a case:
the reference solution (lost: []) and broken copies of it with one mistake
each. expected.json contains "description", "lost" (the rubric ids that must not
pass), and optionally "time_limits" (passed as --time-limit GROUP=SECONDS) and
"tasks" (the status of each task group that does not finish). The untouched
starter in submission/ is a case too: it must lose every check, and its
messages must name each TODO.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.rubric import RUBRIC, RUBRIC_BY_ID
from grader.runner import DEFAULT_TIME_LIMITS_S

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT_ROOT / "fixtures" / "submissions"
STARTER = PROJECT_ROOT / "submission"
STARTER_TODOS = ("Task 1.1", "Task 1.2", "Task 2.1", "Task 2.2", "Task 3.1")


@dataclass(frozen=True)
class Case:
    folder: Path
    lost: frozenset[str]
    time_limits: dict[str, float] = field(default_factory=dict)
    tasks: dict[str, str] = field(default_factory=dict)


def load_case(folder: Path) -> Case:
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    unknown = set(expected["lost"]) - set(RUBRIC_BY_ID)
    assert not unknown, f"{folder.name}/expected.json: unknown check ids {unknown}"
    unknown_groups = set(expected.get("tasks", {})) - set(DEFAULT_TIME_LIMITS_S)
    assert not unknown_groups, f"{folder.name}: unknown task groups {unknown_groups}"
    return Case(
        folder,
        frozenset(expected["lost"]),
        expected.get("time_limits", {}),
        expected.get("tasks", {}),
    )


def cases() -> list:
    params = [
        pytest.param(load_case(path.parent), id=path.parent.name)
        for path in sorted(FIXTURES.glob("*/expected.json"))
    ]
    starter = Case(STARTER, frozenset(item.id for item in RUBRIC))
    params.append(pytest.param(starter, id="starter"))
    return params


@pytest.mark.parametrize("case", cases())
def test_grade(case: Case, grade) -> None:
    result = grade(case.folder, case.time_limits)
    checks = result.results["checks"]
    ids = Counter(check["id"] for check in checks)
    not_passed = {check["id"] for check in checks if check["status"] != "passed"}
    errors = [check for check in checks if check["status"] == "error"]
    silent = [
        check["id"]
        for check in checks
        if check["status"] != "passed" and not check["message"].strip()
    ]
    tasks = {task["group"]: task["status"] for task in result.results["tasks"]}
    expected_tasks = {group: "finished" for group in DEFAULT_TIME_LIMITS_S}
    expected_tasks.update(case.tasks)

    assert ids == Counter(item.id for item in RUBRIC), f"check ids: {dict(ids)}"
    assert not errors, f"checks with status error: {errors}"
    assert not_passed == case.lost, describe(checks)
    assert not silent, f"lost checks without a message: {silent}"
    assert tasks == expected_tasks, result.results["tasks"]
    assert result.exit_code == (1 if case.lost else 0), result.output
    assert result.results["exit_code"] == result.exit_code, "results.json exit_code"
    if case.folder == STARTER:
        messages = "\n".join(check["message"] for check in checks)
        missing = [todo for todo in STARTER_TODOS if todo not in messages]
        assert not missing, f"no message names {missing}"


def describe(checks: list[dict]) -> str:
    """Return each check's status and message, for a failed comparison."""
    lines = []
    for check in checks:
        lines.append(f"{check['id']}: {check['status']}")
        if check["message"]:
            lines.append("    " + check["message"].replace("\n", "\n    "))
    return "\n".join(lines)
