"""Tests of GradeResult.exit_code, write_json and grader/results.schema.json."""

from __future__ import annotations

import json
import typing
from dataclasses import fields
from pathlib import Path

import jsonschema
import pytest

from grader.result import (
    CheckResult,
    CheckStatus,
    GradeResult,
    TaskRun,
    TaskStatus,
    errored_checks,
    write_json,
)
from grader.rubric import PART_TITLES, RUBRIC, RubricItem

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "grader" / "results.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
FAILURE_MESSAGE = "Expected 5 epochs.\nFound 3 epochs.\nHint: pass epochs=5 to fit."
GRADER_ERROR = "The driver exited before writing its trace."


def passed(item: RubricItem) -> CheckResult:
    return CheckResult(
        item.id, item.title, item.part, item.points, item.points, "passed", ""
    )


def failed(item: RubricItem) -> CheckResult:
    return CheckResult(
        item.id, item.title, item.part, 0, item.points, "failed", FAILURE_MESSAGE
    )


def make_result(
    checks: tuple[CheckResult, ...],
    tasks: tuple[TaskRun, ...] = (),
    grader_error: str | None = None,
) -> GradeResult:
    return GradeResult(
        "submission/ü.py", "2024-01-01T23:59:00", 40.0, checks, tasks, grader_error
    )


def full_marks() -> GradeResult:
    task = TaskRun("callback", "finished", 0, 12.0, "")
    return make_result(tuple(passed(item) for item in RUBRIC), (task,))


def with_failures() -> GradeResult:
    checks = (
        failed(item) if item.part == "layout" else passed(item) for item in RUBRIC
    )
    task = TaskRun("comparison", "crashed", 1, 3.25, "ZeroDivisionError ✗")
    return make_result(tuple(checks), (task,))


def with_grader_error() -> GradeResult:
    return make_result(errored_checks(GRADER_ERROR), grader_error=GRADER_ERROR)


def with_errored_check() -> GradeResult:
    checks = tuple(passed(item) for item in RUBRIC[1:])
    first = RUBRIC[0]
    error = CheckResult(first.id, first.title, first.part, 0, 3, "error", "KeyError")
    return make_result((error, *checks))


def is_valid(document: dict) -> bool:
    return VALIDATOR.is_valid(document)


def test_exit_code_full_marks() -> None:
    assert full_marks().exit_code == 0


def test_exit_code_points_missing() -> None:
    assert with_failures().exit_code == 1


def test_exit_code_grader_error() -> None:
    assert with_grader_error().exit_code == 2


def test_exit_code_errored_check() -> None:
    assert with_errored_check().exit_code == 2


def test_json_exit_code_matches() -> None:
    assert with_failures().to_json()["exit_code"] == 1


def test_json_total() -> None:
    layout_points = sum(item.points for item in RUBRIC if item.part == "layout")
    assert with_failures().to_json()["total"] == 100 - layout_points


def test_write_json_creates_folder(tmp_path: Path) -> None:
    path = tmp_path / "grade-report" / "results.json"
    write_json(full_marks(), path)
    assert path.is_file()


def test_write_json_utf8(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_json(with_failures(), path)
    assert "ZeroDivisionError ✗".encode() in path.read_bytes()


def test_write_json_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    result = with_failures()
    write_json(result, path)
    assert json.loads(path.read_text(encoding="utf-8")) == result.to_json()


def test_schema_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "result",
    [full_marks(), with_failures(), with_grader_error(), with_errored_check()],
    ids=["full_marks", "failures", "grader_error", "errored_check"],
)
def test_json_validates(result: GradeResult) -> None:
    errors = [error.message for error in VALIDATOR.iter_errors(result.to_json())]
    assert errors == []


def test_written_file_validates(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_json(with_failures(), path)
    assert is_valid(json.loads(path.read_text(encoding="utf-8")))


def test_extra_top_field_invalid() -> None:
    document = full_marks().to_json()
    document["comment"] = "extra"
    assert not is_valid(document)


def test_extra_check_field_invalid() -> None:
    document = full_marks().to_json()
    document["checks"][0]["weight"] = 1
    assert not is_valid(document)


def test_extra_task_field_invalid() -> None:
    document = full_marks().to_json()
    document["tasks"][0]["pid"] = 1234
    assert not is_valid(document)


@pytest.mark.parametrize("field", list(full_marks().to_json()), ids=lambda field: field)
def test_missing_field_invalid(field: str) -> None:
    document = full_marks().to_json()
    del document[field]
    assert not is_valid(document)


@pytest.mark.parametrize("field", [field.name for field in fields(CheckResult)])
def test_missing_check_field_invalid(field: str) -> None:
    document = full_marks().to_json()
    del document["checks"][0][field]
    assert not is_valid(document)


@pytest.mark.parametrize("field", [field.name for field in fields(TaskRun)])
def test_missing_task_field_invalid(field: str) -> None:
    document = full_marks().to_json()
    del document["tasks"][0][field]
    assert not is_valid(document)


@pytest.mark.parametrize(
    ("keys", "value"),
    [
        (("checks", 0, "status"), "skipped"),
        (("tasks", 0, "status"), "killed"),
        (("checks", 0, "points"), -1),
        (("checks", 0, "max_points"), 2.5),
        (("checks", 0, "id"), 7),
        (("checks", 0, "part"), "bonus"),
        (("exit_code",), 3),
        (("total",), "100"),
        (("grader_error",), 0),
        (("schema_version",), 1),
        (("valid",), "yes"),
        (("tasks", 0, "limit"), "disk"),
    ],
    ids=lambda item: "-".join(map(str, item)) if isinstance(item, tuple) else None,
)
def test_wrong_value_invalid(keys: tuple[str | int, ...], value: object) -> None:
    document = full_marks().to_json()
    *parents, key = keys
    target = document
    for step in parents:
        target = target[step]
    target[key] = value
    assert not is_valid(document)


def test_schema_check_statuses() -> None:
    enum = SCHEMA["$defs"]["check"]["properties"]["status"]["enum"]
    assert set(enum) == set(typing.get_args(CheckStatus))


def test_schema_task_statuses() -> None:
    enum = SCHEMA["$defs"]["task"]["properties"]["status"]["enum"]
    assert set(enum) == set(typing.get_args(TaskStatus))


def test_schema_parts() -> None:
    enum = SCHEMA["$defs"]["check"]["properties"]["part"]["enum"]
    assert set(enum) == set(PART_TITLES)


def test_schema_requires_every_field() -> None:
    assert set(SCHEMA["required"]) == set(full_marks().to_json())
