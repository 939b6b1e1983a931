"""Terminal report of a finished grading run, written for the student.

Every piece of student-controlled text (messages, titles, paths) is escaped
with rich.markup.escape, and emoji codes are left as typed, so the text
prints literally. Colour and width come from the Console the caller passes in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from grader.result import CheckResult, GradeResult, TaskRun
from grader.rubric import PART_TITLES, RUBRIC

STATUS_MARKS = {
    "passed": "[green]✓[/green]",
    "failed": "[bold red]✗[/bold red]",
    "error": "[bold yellow]![/bold yellow]",
}
TASK_STATUS_WORDS = {
    "crashed": "crashed",
    "timed_out": "timed out",
    "not_started": "did not start",
}
RUBRIC_ORDER = {item.id: index for index, item in enumerate(RUBRIC)}
PART_ORDER = tuple(dict.fromkeys(item.part for item in RUBRIC))
TITLES_BY_PART: dict[str, str] = dict(PART_TITLES)
MESSAGE_INDENT = (0, 0, 0, 2)
TAMPERED_LINE = (
    "[bold red]The grade is invalid:[/bold red] {count} of the grader's files "
    "changed while the submission ran, so every check counts as failed."
)
GRADER_ERROR_LINE = (
    "[bold yellow]Grader error:[/bold yellow] the report is incomplete, "
    "please tell your instructor."
)


def render_result(result: GradeResult, console: Console) -> None:
    """Print unfinished task groups, one table per part, the score and next steps."""
    console.print(to_text(f"[bold]Grade report for {escape(result.submission)}[/]"))
    if result.tampered:
        console.print(to_text(TAMPERED_LINE.format(count=len(result.tampered))))
    for task in result.tasks:
        if task.status != "finished":
            render_unfinished_task(task, console)
    for part, checks in group_by_part(result.checks):
        console.print(part_table(part, checks, result.grader_error))
    console.print(to_text(f"[bold]Score: {result.total}/{result.maximum}[/bold]"))
    for line in next_steps(result):
        console.print(to_text(line))


def to_text(markup: str) -> Text:
    """Parse rich markup without replacing :emoji: codes typed by the student."""
    return Text.from_markup(markup, emoji=False)


def render_unfinished_task(task: TaskRun, console: Console) -> None:
    console.print(to_text(f"[bold red]✗[/bold red] {task_summary(task)}"))
    if task.message:
        console.print(Padding(to_text(escape(task.message)), MESSAGE_INDENT))


def task_summary(task: TaskRun) -> str:
    status = TASK_STATUS_WORDS.get(task.status, task.status)
    summary = f"Task group '{escape(task.group)}' {escape(status)}"
    if task.status == "not_started":
        return summary + "."
    if task.status == "crashed" and task.exit_code is not None:
        summary += f" with exit code {task.exit_code}"
    return summary + f" after {task.duration_s:.1f} s."


def group_by_part(
    checks: Iterable[CheckResult],
) -> list[tuple[str, list[CheckResult]]]:
    """Group the checks by part, ordering parts and checks as in RUBRIC.

    Parts and checks that RUBRIC lacks follow the known ones in their given
    order, so no check is left out of the report.
    """
    groups: dict[str, list[CheckResult]] = {}
    for check in checks:
        groups.setdefault(check.part, []).append(check)
    known = [part for part in PART_ORDER if part in groups]
    unknown = [part for part in groups if part not in PART_ORDER]
    return [(part, sort_checks(groups[part])) for part in known + unknown]


def sort_checks(checks: Sequence[CheckResult]) -> list[CheckResult]:
    return sorted(checks, key=lambda check: RUBRIC_ORDER.get(check.id, len(RUBRIC)))


def part_table(
    part: str, checks: Sequence[CheckResult], grader_error: str | None
) -> Table:
    earned = sum(check.points for check in checks)
    available = sum(check.max_points for check in checks)
    title = TITLES_BY_PART.get(part, part)
    table = Table(
        title=to_text(f"[bold]{escape(title)}[/bold]  {earned}/{available}"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        expand=True,
    )
    table.add_column("", no_wrap=True, width=1)
    table.add_column("Check", overflow="fold", ratio=1)
    table.add_column("Points", justify="right", no_wrap=True)
    previous_message = None
    for check in checks:
        add_check_rows(table, check, grader_error, previous_message)
        if check.status != "passed":
            previous_message = check.message
    return table


def add_check_rows(
    table: Table,
    check: CheckResult,
    grader_error: str | None,
    previous_message: str | None = None,
) -> None:
    """Add the check's row and, unless it passed, a row with its message.

    An errored check whose message equals result.grader_error gets no message
    row, because that error is printed once at the end of the report. A message
    equal to the one just above it is shortened to a reference to it.
    """
    mark = STATUS_MARKS.get(check.status, "?")
    points = f"{check.points}/{check.max_points}"
    table.add_row(to_text(mark), to_text(escape(check.title)), points)
    if check.status == "passed" or not check.message:
        return
    if check.status == "error" and check.message == grader_error:
        return
    message = check.message
    if message == previous_message:
        message = "(same reason as above)"
    table.add_row("", Padding(to_text(escape(message)), MESSAGE_INDENT), "")


def next_steps(result: GradeResult) -> list[str]:
    """Return the markup lines that tell the student what to do next."""
    failed = any(check.status == "failed" for check in result.checks)
    lines: list[str] = []
    if result.exit_code == 0:
        lines.append("[green]All checks passed. Nothing left to do.[/green]")
    if failed:
        lines.append("Fix the checks marked ✗ above, then run `make grade` again.")
    if result.exit_code == 1 and not failed:
        lines.append(
            "Points are missing but no check failed, so the report is incomplete. "
            "Please tell your instructor."
        )
    if result.exit_code == 2:
        lines.extend(grader_error_lines(result))
    return lines


def grader_error_lines(result: GradeResult) -> list[str]:
    lines = [GRADER_ERROR_LINE]
    if any(check.status == "error" for check in result.checks):
        lines.append("Checks marked ! could not be graded.")
    if result.grader_error is not None:
        lines.append(escape(result.grader_error))
    return lines
