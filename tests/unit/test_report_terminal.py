"""Tests of the terminal report, read as the plain text a 100-column terminal shows."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from grader.report.terminal import render_result
from grader.result import CheckResult, GradeResult, TaskRun, errored_checks
from grader.rubric import PART_TITLES, RUBRIC, RubricItem

SUBMISSION = "submission/tensorboard_starter.py"
FAILED_IDS = ("log_dir_format", "loss_ratio_value", "reflection_2")
LONG_PATH = "logs/" + "very_long_experiment_name_" * 6 + "20240101-120000"
FAILURE_MESSAGE = (
    "Expected a log directory named logs/basic_<YYYYMMDD-HHMMSS>, for example "
    "logs/basic_20240101-120000, created at the time of the call.\n"
    f"Found: {LONG_PATH}\n"
    "Hint: build the name with datetime.now().strftime('%Y%m%d-%H%M%S') and do "
    "not write [bold]the date[/bold] by hand :smile:."
)
CRASH_MESSAGE = (
    "Traceback (most recent call last):\n"
    '  File "tensorboard_starter.py", line 88, in compare_learning_rates\n'
    "ZeroDivisionError: division by zero"
)
GRADER_ERROR = "The grader could not start Python: [Errno 2] no such file"


def passed(item: RubricItem) -> CheckResult:
    return CheckResult(
        item.id, item.title, item.part, item.points, item.points, "passed", ""
    )


def failed(item: RubricItem, message: str = FAILURE_MESSAGE) -> CheckResult:
    return CheckResult(
        item.id, item.title, item.part, 0, item.points, "failed", message
    )


def make_result(
    checks: tuple[CheckResult, ...],
    tasks: tuple[TaskRun, ...] = (),
    grader_error: str | None = None,
) -> GradeResult:
    return GradeResult(
        SUBMISSION, "2024-01-01T23:59:00", 40.0, checks, tasks, grader_error
    )


def full_marks() -> GradeResult:
    return make_result(tuple(passed(item) for item in RUBRIC))


def with_failures() -> GradeResult:
    checks = (failed(i) if i.id in FAILED_IDS else passed(i) for i in RUBRIC)
    return make_result(tuple(checks))


def with_crash() -> GradeResult:
    checks = (
        failed(item, "compare_learning_rates crashed.")
        if item.part == "comparison"
        else passed(item)
        for item in RUBRIC
    )
    tasks = (
        TaskRun("callback", "finished", 0, 12.0, ""),
        TaskRun("comparison", "crashed", 1, 3.25, CRASH_MESSAGE),
        TaskRun("custom_metrics", "timed_out", None, 600.0, "Stopped after 600 s."),
    )
    return make_result(tuple(checks), tasks)


def with_grader_error() -> GradeResult:
    return make_result(errored_checks(GRADER_ERROR), grader_error=GRADER_ERROR)


def render(result: GradeResult) -> str:
    console = Console(width=100, color_system=None, record=True, file=io.StringIO())
    render_result(result, console)
    return console.export_text()


def squash(text: str) -> str:
    """Remove all whitespace, so text wrapped over several lines can be found."""
    return "".join(text.split())


def single_line(text: str) -> str:
    """Join wrapped lines with single spaces, so a wrapped sentence can be found."""
    return " ".join(text.split())


def line_with(text: str, fragment: str) -> str:
    return next(line for line in text.splitlines() if fragment in line)


@pytest.mark.parametrize("item", RUBRIC, ids=lambda item: item.id)
def test_every_title_shown(item: RubricItem) -> None:
    assert item.title in render(full_marks())


@pytest.mark.parametrize("item", RUBRIC, ids=lambda item: item.id)
def test_full_marks_points(item: RubricItem) -> None:
    row = line_with(render(full_marks()), item.title)
    assert row.rstrip().endswith(f"{item.points}/{item.points}")


@pytest.mark.parametrize("check_id", FAILED_IDS)
def test_failed_points(check_id: str) -> None:
    item = next(item for item in RUBRIC if item.id == check_id)
    row = line_with(render(with_failures()), item.title)
    assert row.rstrip().endswith(f"0/{item.points}")


def test_parts_in_rubric_order() -> None:
    text = render(full_marks())
    positions = [text.index(title) for title in PART_TITLES.values()]
    assert positions == sorted(positions)


def test_part_subtotal() -> None:
    assert "Part 3: experiment comparison  0/20" in render(with_crash())


def test_failed_mark_differs_from_passed() -> None:
    text = render(with_failures())
    passed_mark = line_with(text, RUBRIC[0].title).split()[0]
    failed_mark = line_with(text, "log directory is logs/").split()[0]
    assert failed_mark != passed_mark


def test_error_mark_distinct() -> None:
    errored = line_with(render(with_grader_error()), RUBRIC[0].title).split()[0]
    failed_mark = line_with(render(with_failures()), "log directory is").split()[0]
    assert errored != failed_mark


def test_message_shown_in_full() -> None:
    assert squash(FAILURE_MESSAGE) in squash(render(with_failures()))


def test_message_shown_per_failure() -> None:
    assert render(with_failures()).count("Hint: build the name") == len(FAILED_IDS)


def test_message_keeps_lines() -> None:
    assert line_with(render(with_failures()), "Found:").split() == ["Found:"]


def test_long_path_not_truncated() -> None:
    assert LONG_PATH in squash(render(with_failures()))


def test_no_line_wider_than_console() -> None:
    widths = [len(line) for line in render(with_failures()).splitlines()]
    assert max(widths) <= 100


def test_passed_message_hidden() -> None:
    checks = (
        CheckResult("callback_type", "title", "callback", 3, 3, "passed", "all good"),
    )
    assert "all good" not in render(make_result(checks))


def test_markup_in_message_literal() -> None:
    assert "[bold]the date[/bold]" in render(with_failures())


def test_emoji_code_literal() -> None:
    assert ":smile:" in render(with_failures())


def test_markup_in_title_literal() -> None:
    check = CheckResult("x", "[red]odd[/red] title", "callback", 0, 3, "failed", "m")
    assert "[red]odd[/red] title" in render(make_result((check,)))


def test_markup_in_submission_literal() -> None:
    result = GradeResult("[blue]sub.py", "t", 1.0, (), ())
    assert "[blue]sub.py" in render(result)


def test_trailing_backslash_literal() -> None:
    check = CheckResult("x", "title", "callback", 0, 3, "failed", "C:\\logs\\")
    assert "C:\\logs\\" in render(make_result((check,)))


def test_unknown_part_still_shown() -> None:
    check = CheckResult("extra", "extra check", "bonus", 0, 1, "failed", "missing")
    assert "extra check" in render(make_result((check,)))


def test_total_full_marks() -> None:
    assert "Score: 100/100" in render(full_marks())


def test_total_with_failures() -> None:
    missing = sum(item.points for item in RUBRIC if item.id in FAILED_IDS)
    assert f"Score: {100 - missing}/100" in render(with_failures())


def test_total_after_tables() -> None:
    text = render(with_failures())
    assert text.index("Score:") > text.index(PART_TITLES["reflections"])


def test_all_done_line() -> None:
    assert "All checks passed" in render(full_marks())


def test_fix_line() -> None:
    assert "then run `make grade` again" in render(with_failures())


def test_no_fix_line_at_full_marks() -> None:
    assert "make grade" not in render(full_marks())


def test_crashed_task_line() -> None:
    text = render(with_crash())
    assert "Task group 'comparison' crashed with exit code 1 after 3.2 s." in text


def test_crashed_task_message() -> None:
    assert squash(CRASH_MESSAGE) in squash(render(with_crash()))


def test_timed_out_task_line() -> None:
    text = render(with_crash())
    assert "Task group 'custom_metrics' timed out after 600.0 s." in text


def test_not_started_task_line() -> None:
    task = TaskRun("layout", "not_started", None, 0.0, "An earlier group crashed.")
    text = render(make_result((), (task,)))
    assert "Task group 'layout' did not start." in text


def test_finished_task_hidden() -> None:
    assert "'callback'" not in render(with_crash())


def test_task_lines_before_tables() -> None:
    text = render(with_crash())
    assert text.index("crashed with") < text.index(PART_TITLES["callback"])


def test_grader_error_line() -> None:
    text = render(with_grader_error())
    assert "Grader error: the report is incomplete" in text


def test_grader_error_asks_instructor() -> None:
    assert "please tell your instructor" in single_line(render(with_grader_error()))


def test_grader_error_message_literal() -> None:
    assert GRADER_ERROR in render(with_grader_error())


def test_grader_error_printed_once() -> None:
    assert render(with_grader_error()).count(GRADER_ERROR) == 1


def test_errored_check_message_shown() -> None:
    check = CheckResult("x", "title", "callback", 0, 3, "error", "KeyError: 'loss'")
    assert "KeyError: 'loss'" in render(make_result((check,)))


def test_errored_check_asks_instructor() -> None:
    check = CheckResult("x", "title", "callback", 0, 3, "error", "KeyError: 'loss'")
    assert "tell your instructor" in single_line(render(make_result((check,))))


def test_errored_checks_explained() -> None:
    assert "Checks marked ! could not be graded." in render(with_grader_error())


def test_missing_checks_line() -> None:
    text = single_line(render(make_result(())))
    assert "Points are missing but no check failed" in text


def test_repeated_message_shortened() -> None:
    checks = tuple(
        failed(item) if item.part == "comparison" else passed(item) for item in RUBRIC
    )
    output = render(make_result(checks))
    failures = sum(1 for item in RUBRIC if item.part == "comparison")
    assert output.count("Hint: build the name") == 1
    assert output.count("(same reason as above)") == failures - 1
