"""The grading result: what every report format is rendered from.

The JSON form is described in docs/results-schema.md and checked against
grader/results.schema.json by the tests.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from grader.rubric import MAXIMUM_POINTS, RUBRIC

CheckStatus = Literal["passed", "failed", "error"]
TaskStatus = Literal["finished", "crashed", "timed_out", "not_started"]
SCHEMA_VERSION = 2


def valid_text(text: str) -> str:
    """Return ``text`` with lone surrogates replaced, so that UTF-8 can hold it.

    A file name that is not valid UTF-8 reaches Python with such surrogates.
    """
    return text.encode("utf-8", "replace").decode("utf-8")


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    part: str
    points: int
    max_points: int
    status: CheckStatus
    message: str


@dataclass(frozen=True)
class TaskRun:
    """One child process that ran a group of the student's tasks."""

    group: str
    status: TaskStatus
    exit_code: int | None
    duration_s: float
    message: str
    # The resource limit the group ran into (grader/runner/limits.py), or None.
    limit: str | None = None
    # How the child was fenced in: {"network": ..., "landlock_abi": ...}.
    fence: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GradeResult:
    submission: str
    started_at: str
    duration_s: float
    checks: tuple[CheckResult, ...]
    tasks: tuple[TaskRun, ...]
    grader_error: str | None = None
    # Grader files that changed while the submission ran; any makes the grade
    # invalid (grader/integrity.py).
    tampered: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return sum(check.points for check in self.checks)

    @property
    def maximum(self) -> int:
        return MAXIMUM_POINTS

    @property
    def exit_code(self) -> int:
        """Return 0 for full marks, 1 for missing points, 2 when the grader failed."""
        if self.grader_error is not None:
            return 2
        if any(check.status == "error" for check in self.checks):
            return 2
        return 0 if self.total == self.maximum else 1

    def to_json(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "submission": self.submission,
            "started_at": self.started_at,
            "duration_s": round(self.duration_s, 3),
            "total": self.total,
            "maximum": self.maximum,
            "exit_code": self.exit_code,
            "grader_error": self.grader_error,
            "valid": not self.tampered,
            "tampered_files": list(self.tampered),
            "checks": [asdict(check) for check in self.checks],
            "tasks": [asdict(task) for task in self.tasks],
        }


def errored_checks(message: str) -> tuple[CheckResult, ...]:
    """Return every rubric check as an error, for a grader that failed early."""
    return tuple(
        CheckResult(item.id, item.title, item.part, 0, item.points, "error", message)
        for item in RUBRIC
    )


def write_json(result: GradeResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result.to_json(), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
