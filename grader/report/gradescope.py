"""Gradescope's results.json for a grading run.

Field names and values follow Gradescope's "Autograder Specifications",
https://gradescope-autograders.readthedocs.io/en/latest/specs/ (source:
gradescope/autograder_samples, docs/specs.md, last changed 2023-05-05).
Gradescope reads the top-level "score" as the submission's score. A test's
"status" overrides the pass or fail that its score implies, and "output" is
shown in a collapsed block under the test. Every format is set to "text"
because the top-level output defaults to "simple_format", which renders HTML,
so text such as "logs/<name>_<YYYYMMDD-HHMMSS>" would lose its "<name>".
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.report.export import clean_text, report_checks
from grader.result import CheckResult, GradeResult, TaskRun

VISIBLE = "visible"
TEXT_FORMAT = "text"
TASK_STATUS_WORDS = {
    "crashed": "crashed",
    "timed_out": "timed out",
    "not_started": "did not start",
}
FAILED_HINT = "Open each failed test below to see what it expected and what to do."
GRADER_ERROR_HINT = "The grader itself failed. Please tell your instructor."


def render_gradescope(result: GradeResult, output: str = "") -> dict:
    """Return Gradescope's results.json object for the result.

    output, when not empty, is appended to the summary shown at the top of the
    student's results.
    """
    checks = report_checks(result)
    summary = summary_text(result, checks)
    if output.strip():
        summary += "\n\n" + output
    return {
        "score": result.total,
        "execution_time": round(max(result.duration_s, 0.0)),
        "output": clean_text(summary),
        "output_format": TEXT_FORMAT,
        "test_output_format": TEXT_FORMAT,
        "test_name_format": TEXT_FORMAT,
        "stdout_visibility": VISIBLE,
        "tests": [gradescope_test(check) for check in checks],
    }


def write_gradescope(result: GradeResult, path: Path, output: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(render_gradescope(result, output), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")


def gradescope_test(check: CheckResult) -> dict:
    """Return Gradescope's test object for one check. An errored check is failed."""
    return {
        "name": clean_text(f"{check.id}: {check.title}"),
        "score": check.points,
        "max_score": check.max_points,
        "status": "passed" if check.status == "passed" else "failed",
        "output": clean_text(check.message),
        "visibility": VISIBLE,
    }


def summary_text(result: GradeResult, checks: tuple[CheckResult, ...]) -> str:
    lines = [f"Score: {result.total}/{result.maximum}", count_line(checks)]
    lines.extend(task_line(task) for task in result.tasks if task.status != "finished")
    if any(check.status == "failed" for check in checks):
        lines.append(FAILED_HINT)
    if result.grader_error is not None or any(not_graded(c) for c in checks):
        lines.append(GRADER_ERROR_HINT)
    if result.grader_error is not None:
        lines.append(result.grader_error)
    return "\n".join(lines)


def not_graded(check: CheckResult) -> bool:
    return check.status not in ("passed", "failed")


def count_line(checks: tuple[CheckResult, ...]) -> str:
    passed = sum(check.status == "passed" for check in checks)
    failed = sum(check.status == "failed" for check in checks)
    errored = sum(not_graded(check) for check in checks)
    line = f"{passed} of {len(checks)} checks passed, {failed} failed"
    if errored:
        line += f", {errored} could not be graded"
    return line + "."


def task_line(task: TaskRun) -> str:
    status = TASK_STATUS_WORDS.get(task.status, task.status)
    line = f"Task group '{task.group}' {status}"
    return f"{line}: {task.message}" if task.message else f"{line}."
