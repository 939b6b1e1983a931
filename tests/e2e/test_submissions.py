"""Grade each fixture submission end to end and compare with what it should lose.

Each folder under fixtures/submissions/ that has an expected.json is a case:
the reference solution (lost: []), broken copies of it with one mistake each,
and hostile submissions that attack the grader. The untouched starter in
submission/ is a case too: it must lose every check, and its messages must
name each TODO.

expected.json holds:

- "description";
- "lost": the rubric ids that must not pass, or "all", or
  "all_but_reflections";
- optionally "time_limits" and "cpu_limits" (GROUP: seconds, passed as
  --time-limit and --cpu-limit), "tasks" (the status of each task group that
  does not finish), "limits" (the limit each group runs into), "messages"
  (text the report must contain), "environment" (variables set for the
  grader) and "absent" (text that must appear nowhere in the report),
  "pad_comment_bytes" (a comment of that size is appended to a copy of the
  file), "grader_copy" (grade with a copy of the grader, which the submission
  may damage), "valid" (false when the grade must be marked invalid) and
  "with_landlock" ("valid" and "messages" that replace the case's own where
  the kernel enforced Landlock in the task groups).

Every case must end within the sum of its time limits plus a margin, report
every rubric check, exit with 1 (0 for full marks), leave no process behind,
and change no file outside the grader's temporary working directory.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.rubric import RUBRIC, RUBRIC_BY_ID
from grader.runner import DEFAULT_TIME_LIMITS_S
from grader.runner.limits import LIMIT_NAMES
from tests.e2e.conftest import GradeOptions, driver_processes

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT_ROOT / "fixtures" / "submissions"
STARTER = PROJECT_ROOT / "submission"
STARTER_TODOS = ("Task 1.1", "Task 1.2", "Task 2.1", "Task 2.2", "Task 3.1")
ALL_CHECKS = frozenset(item.id for item in RUBRIC)
REFLECTIONS = frozenset(item.id for item in RUBRIC if item.part == "reflections")
LOST_SHORTHANDS = {"all": ALL_CHECKS, "all_but_reflections": ALL_CHECKS - REFLECTIONS}
# Time for the grader's own start, its checks and its report, on top of the
# task groups' limits.
DURATION_MARGIN_S = 60
# Folders of the project that the grader or the tests write to themselves.
UNWATCHED = {".git", ".venv", ".pytest_cache", ".ruff_cache", ".hypothesis"}
# Written by the hostile fixtures' attempts, in the machine's temp folder.
ESCAPED_NAME = "written_by_submission"


@dataclass(frozen=True)
class Case:
    folder: Path
    lost: frozenset[str]
    time_limits: dict[str, float] = field(default_factory=dict)
    cpu_limits: dict[str, float] = field(default_factory=dict)
    tasks: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    messages: tuple[str, ...] = ()
    environment: dict[str, str] = field(default_factory=dict)
    absent: tuple[str, ...] = ()
    pad_comment_bytes: int = 0
    grader_copy: bool = False
    valid: bool = True
    with_landlock: dict = field(default_factory=dict)


def load_case(folder: Path) -> Case:
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    lost = expected["lost"]
    lost = LOST_SHORTHANDS[lost] if isinstance(lost, str) else frozenset(lost)
    unknown = set(lost) - set(RUBRIC_BY_ID)
    assert not unknown, f"{folder.name}/expected.json: unknown check ids {unknown}"
    for key in ("time_limits", "cpu_limits", "tasks", "limits"):
        unknown_groups = set(expected.get(key, {})) - set(DEFAULT_TIME_LIMITS_S)
        assert not unknown_groups, f"{folder.name}: unknown groups in {key}"
    unknown_limits = set(expected.get("limits", {}).values()) - set(LIMIT_NAMES)
    assert not unknown_limits, f"{folder.name}: unknown limits {unknown_limits}"
    return Case(
        folder,
        frozenset(lost),
        expected.get("time_limits", {}),
        expected.get("cpu_limits", {}),
        expected.get("tasks", {}),
        expected.get("limits", {}),
        tuple(expected.get("messages", ())),
        expected.get("environment", {}),
        tuple(expected.get("absent", ())),
        expected.get("pad_comment_bytes", 0),
        expected.get("grader_copy", False),
        expected.get("valid", True),
        expected.get("with_landlock", {}),
    )


def cases() -> list:
    params = [
        pytest.param(load_case(path.parent), id=path.parent.name)
        for path in sorted(FIXTURES.glob("*/expected.json"))
    ]
    params.append(pytest.param(Case(STARTER, ALL_CHECKS), id="starter"))
    return params


def test_corpus_size() -> None:
    hostile = [path for path in FIXTURES.glob("*/tensorboard_starter.py")]
    assert len(hostile) - 1 >= 25, "fewer than 25 broken or hostile submissions"


@pytest.mark.parametrize("case", cases())
def test_grade(case: Case, grade, tmp_path: Path) -> None:
    submission = prepare_submission(case, tmp_path / "submission")
    options = GradeOptions(
        case.time_limits,
        case.cpu_limits,
        case.environment,
        copy_grader(tmp_path / "grader-copy") if case.grader_copy else PROJECT_ROOT,
    )
    before = project_files()
    escaped_before = escaped_files()

    result = grade(submission, options)
    if case.with_landlock and landlock_enforced(result.results):
        case = dataclasses.replace(
            case,
            valid=case.with_landlock["valid"],
            messages=tuple(case.with_landlock["messages"]),
        )

    assert project_files() == before, "the grade changed files of the project"
    assert escaped_files() == escaped_before, "a task wrote to the temp folder"
    left = list(options_temp(tmp_path).iterdir())
    assert not left, f"the grader left {left} in its temp folder"
    assert not driver_processes(submission), "task processes outlived the grade"
    limits = {**DEFAULT_TIME_LIMITS_S, **case.time_limits}
    assert result.duration_s <= sum(limits.values()) + DURATION_MARGIN_S

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
    tripped = {
        task["group"]: task["limit"]
        for task in result.results["tasks"]
        if task["limit"]
    }

    assert ids == Counter(item.id for item in RUBRIC), f"check ids: {dict(ids)}"
    assert not errors, f"checks with status error: {errors}"
    assert not_passed == case.lost, describe(checks)
    assert not silent, f"lost checks without a message: {silent}"
    assert tasks == expected_tasks, result.results["tasks"]
    assert tripped == case.limits, result.results["tasks"]
    assert result.exit_code == (1 if case.lost else 0), result.output
    assert result.results["exit_code"] == result.exit_code, "results.json exit_code"
    assert result.results["valid"] == case.valid, result.results["tampered_files"]

    report = result.output + json.dumps(result.results, ensure_ascii=False)
    missing = [text for text in case.messages if text not in report]
    assert not missing, f"the report lacks {missing}:\n{describe(checks)}"
    leaked = [text for text in case.absent if text in report]
    assert not leaked, f"the report shows {leaked}"
    if case.folder == STARTER:
        messages = "\n".join(check["message"] for check in checks)
        missing = [todo for todo in STARTER_TODOS if todo not in messages]
        assert not missing, f"no message names {missing}"


def landlock_enforced(results: dict) -> bool:
    return all(task["fence"].get("landlock_abi", 0) > 0 for task in results["tasks"])


def prepare_submission(case: Case, target: Path) -> Path:
    """Return the folder to grade: the fixture itself, or a padded copy of it."""
    if not case.pad_comment_bytes:
        return case.folder
    shutil.copytree(case.folder, target)
    line = "# " + "0123456789abcdef" * 6 + "\n"
    with (target / "tensorboard_starter.py").open("a", encoding="utf-8") as stream:
        stream.write(line * (case.pad_comment_bytes // len(line) + 1))
    return target


def copy_grader(target: Path) -> Path:
    """Copy the grader and its data to ``target``, for a case that damages them."""
    shutil.copytree(
        PROJECT_ROOT / "grader",
        target / "grader",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    shutil.copytree(PROJECT_ROOT / "fixtures" / "mnist", target / "fixtures" / "mnist")
    return target


def project_files() -> dict[str, tuple[int, int]]:
    """Return the size and modification time of each file the project holds."""
    files = {}
    for folder, folders, names in os.walk(PROJECT_ROOT):
        folders[:] = [
            name for name in folders if name not in UNWATCHED and name != "__pycache__"
        ]
        for name in names:
            path = Path(folder, name)
            status = path.lstat()
            files[str(path)] = (status.st_size, status.st_mtime_ns)
    return files


def escaped_files() -> set[str]:
    return {
        name
        for name in os.listdir(tempfile.gettempdir())
        if name.startswith(ESCAPED_NAME)
    }


def options_temp(tmp_path: Path) -> Path:
    """Return the temp folder the grade fixture gives the grader."""
    return tmp_path / "temp"


def describe(checks: list[dict]) -> str:
    """Return each check's status and message, for a failed comparison."""
    lines = []
    for check in checks:
        lines.append(f"{check['id']}: {check['status']}")
        if check["message"]:
            lines.append("    " + check["message"].replace("\n", "\n    "))
    return "\n".join(lines)
