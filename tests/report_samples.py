"""A hand-built grading result for the golden tests of the report files.

Its messages contain what student output can put into a report: characters
that XML, workflow commands or Markdown treat specially, an ANSI colour
sequence, a NUL character and Windows line ends.
"""

from __future__ import annotations

from grader.result import CheckResult, CheckStatus, GradeResult, TaskRun
from grader.rubric import RUBRIC, RUBRIC_BY_ID

SUBMISSION = "/autograder/submission/tensorboard_starter.py"
STARTED_AT = "2025-03-14T23:41:07+00:00"
DURATION_S = 41.306
SPECIAL_MESSAGE = (
    "Expected 100% of the runs in logs/<name>_<YYYYMMDD-HHMMSS> :: "
    "\"quoted\" & 'single'\n"
    "Found: \x1b[31mlogs/basic | logs/basic\x1b[0m\x00\n"
    'Hint: name the folder with datetime.now().strftime("%Y%m%d-%H%M%S").'
)
ERROR_MESSAGE = (
    "The check raised KeyError: 'epoch'.\r\n"
    "Traceback (most recent call last):\r\n"
    '  File "grader/checks/test_reflections.py", line 12, in test_reflection_2'
)
CRASH_MESSAGE = "ended early with exit code 1 after 3.2 s"
# The checks that do not pass, with their status and message.
NOT_PASSED: dict[str, tuple[CheckStatus, str]] = {
    "log_dir_format": ("failed", SPECIAL_MESSAGE),
    "comparison_printed_accuracy": ("failed", ""),
    "reflection_2": ("error", ERROR_MESSAGE),
}
SAMPLE_TOTAL = 100 - sum(RUBRIC_BY_ID[check_id].points for check_id in NOT_PASSED)


def sample_check(check_id: str) -> CheckResult:
    item = RUBRIC_BY_ID[check_id]
    status, message = NOT_PASSED.get(check_id, ("passed", ""))
    points = item.points if status == "passed" else 0
    return CheckResult(
        item.id, item.title, item.part, points, item.points, status, message
    )


def sample_result(grader_error: str | None = None) -> GradeResult:
    tasks = (
        TaskRun("callback", "finished", 0, 12.5, "finished in 12.5 s"),
        TaskRun("custom_metrics", "finished", 0, 20.0, "finished in 20.0 s"),
        TaskRun("comparison", "crashed", 1, 3.25, CRASH_MESSAGE),
    )
    checks = tuple(sample_check(item.id) for item in RUBRIC)
    return GradeResult(SUBMISSION, STARTED_AT, DURATION_S, checks, tasks, grader_error)
