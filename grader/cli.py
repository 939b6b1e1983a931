"""The command line: grade one submission and write its report.

Exit status: 0 full marks, 1 points missing, 2 the grader itself failed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from rich.console import Console

from grader.dataset import verify_subset
from grader.integrity import changed_files, grading_fingerprint
from grader.reflections import read_answers
from grader.report.github import (
    annotations,
    commands_stopped,
    path_in_repository,
    read_submission_source,
    write_github_outputs,
)
from grader.report.gradescope import write_gradescope
from grader.report.junit import write_junit
from grader.report.progress import Progress
from grader.report.terminal import render_result
from grader.result import (
    CheckResult,
    GradeResult,
    TaskRun,
    TaskStatus,
    errored_checks,
    valid_text,
    write_json,
)
from grader.rubric import RUBRIC
from grader.runner import (
    DEFAULT_TIME_LIMITS_S,
    RunSettings,
    SubmissionRun,
    run_submission,
)
from grader.runner.sandbox import GroupRun
from grader.runner.steps import GROUP_TITLES

logger = logging.getLogger("grader")

SUBMISSION_FILE = "tensorboard_starter.py"


def parse_time_limit(text: str) -> tuple[str, float]:
    group, _, seconds = text.partition("=")
    if group not in DEFAULT_TIME_LIMITS_S:
        raise argparse.ArgumentTypeError(
            f"unknown task group {group!r} in {text!r}; expected one of "
            + ", ".join(DEFAULT_TIME_LIMITS_S)
        )
    try:
        value = float(seconds)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"invalid time limit {text!r}; expected GROUP=SECONDS with SECONDS > 0"
        )
    return group, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m grader",
        description="Grade a TensorBoard Exploration submission.",
    )
    parser.add_argument(
        "submission",
        nargs="?",
        type=Path,
        default=Path("submission"),
        help=f"the student's {SUBMISSION_FILE}, or a folder holding it "
        "(default: submission/)",
    )
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=Path("grade-report"),
        help="folder for results.json and a copy of the logs (default: grade-report/)",
    )
    parser.add_argument(
        "--time-limit",
        type=parse_time_limit,
        action="append",
        default=[],
        metavar="GROUP=SECONDS",
        help="wall-clock limit of one task group, in seconds; groups and defaults: "
        + ", ".join(f"{g}={s:.0f}" for g, s in DEFAULT_TIME_LIMITS_S.items()),
    )
    parser.add_argument(
        "--cpu-limit",
        type=parse_time_limit,
        action="append",
        default=[],
        metavar="GROUP=SECONDS",
        help="CPU seconds that one task group's processes may use together "
        "(default: the group's time limit)",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in the terminal report (default: auto)",
    )
    parser.add_argument(
        "--gradescope-results", type=Path, metavar="PATH",
        help="also write Gradescope's results.json to PATH",
    )  # fmt: skip
    parser.add_argument(
        "--github", action="store_true",
        help="for GitHub Actions: write the step outputs, the step summary and "
        "annotations, and pause workflow commands while the report prints",
    )  # fmt: skip
    parser.add_argument("--timings", type=Path, help=argparse.SUPPRESS)
    return parser  # fmt: skip


def find_submission(path: Path) -> Path | None:
    if path.is_dir():
        path = path / SUBMISSION_FILE
    return path if path.is_file() else None


def describe_missing(path: Path) -> str:
    if not path.exists():
        return f"nothing at {path}"
    if path.is_file():
        return f"{path}, which is not a file the grader can read"
    python_files = sorted(child.name for child in path.glob("*.py"))
    if not python_files:
        return f"no {SUBMISSION_FILE} and no other .py file in {path}"
    listed = ", ".join(python_files[:5]) + (" ..." if len(python_files) > 5 else "")
    return f"no {SUBMISSION_FILE} in {path}; it holds {listed}"


def missing_submission_result(path: Path, started: datetime) -> GradeResult:
    message = (
        f"Expected: the file {SUBMISSION_FILE}, or a folder that holds it\n"
        f"Found: {describe_missing(path)}\n"
        "Hint: run make grade from the project folder, or point the grader at "
        "your file: make grade SUBMISSION=path/to/tensorboard_starter.py."
    )
    checks = tuple(
        CheckResult(item.id, item.title, item.part, 0, item.points, "failed", message)
        for item in RUBRIC
    )
    return GradeResult(
        str(path), started.isoformat(timespec="seconds"), 0.0, checks, ()
    )


def task_runs(run: SubmissionRun) -> tuple[TaskRun, ...]:
    return tuple(task_run(group, run) for group in run.groups.values())


def task_run(group: GroupRun, run: SubmissionRun) -> TaskRun:
    status: TaskStatus = group.status
    imported = run.steps[f"import:{group.group}"]
    if group.status == "finished" and imported.status == "error":
        # The child ran to its end, but none of the student's tasks could run.
        error = imported.error or {}
        status = "crashed"
        message = (
            f"importing the file failed with {error.get('type', 'an error')}: "
            f"{error.get('message', '')}"
        )
    elif group.limit is not None and group.status == "finished":
        message = (
            f"{GROUP_TITLES[group.group]} ran into {group.limit_description}: "
            f"the task that did failed, and the group finished in "
            f"{group.duration_s:.1f} s"
        )
    elif group.limit is not None:
        message = (
            f"{GROUP_TITLES[group.group]} exceeded {group.limit_description} "
            f"and was stopped after {group.duration_s:.1f} s"
        )
    elif group.status == "finished":
        message = f"finished in {group.duration_s:.1f} s"
    elif group.status == "timed_out":
        message = f"stopped after its {group.time_limit_s:.0f} s time limit"
    else:
        code = group.exit_code
        if code is not None and code < 0:
            ending = f"signal {-code}"
        else:
            ending = f"exit code {code}"
        message = f"ended early with {ending} after {group.duration_s:.1f} s"
    return TaskRun(
        group.group,
        status,
        group.exit_code,
        group.duration_s,
        valid_text(message),
        group.limit,
        group.fence,
    )


def copy_logs(run: SubmissionRun, report_dir: Path) -> None:
    """Keep the grading run's logs, so the student can open them in TensorBoard."""
    target = report_dir / "logs"
    shutil.rmtree(target, ignore_errors=True)
    source = run.workdir / "logs"
    if source.is_dir() and not source.is_symlink():
        shutil.copytree(source, target, symlinks=True)


@dataclass
class PhaseTimes:
    """Moments of one grade on the monotonic clock, for the benchmark."""

    started: float = field(default_factory=time.monotonic)
    trained: float | None = None

    def write(self, path: Path) -> None:
        now = time.monotonic()
        trained = self.trained if self.trained is not None else now
        timings = {"training_s": trained - self.started, "report_s": now - trained}
        path.write_text(json.dumps(timings), encoding="utf-8")


def grade(
    options: argparse.Namespace, console: Console, phases: PhaseTimes
) -> GradeResult:
    started = datetime.now().astimezone()
    submission = find_submission(options.submission)
    if submission is None:
        return missing_submission_result(options.submission, started)

    settings = RunSettings(verify_subset())
    settings.time_limits_s.update(dict(options.time_limit))
    settings.cpu_limits_s.update(dict(options.cpu_limit))
    # Read before the student's code runs, which could rewrite its own answers.
    source = submission.read_bytes()
    before = grading_fingerprint(settings.data_path)
    workdir = Path(tempfile.mkdtemp(prefix="tensorboard-grader-"))
    try:
        run = train(submission, workdir, settings, console)
        phases.trained = time.monotonic()
        checks = check(run, source)
        # Taken after the checks ran, so that a change made while pytest
        # imported them still shows.
        tampered = changed_files(before, grading_fingerprint(settings.data_path))
        if tampered:
            checks = invalidated(checks, tampered)
        copy_logs(run, options.report_dir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    return GradeResult(
        str(submission), started.isoformat(timespec="seconds"),
        time.monotonic() - phases.started, checks, task_runs(run),
        tampered=tuple(tampered),
    )  # fmt: skip


def invalidated(
    checks: tuple[CheckResult, ...], tampered: list[str]
) -> tuple[CheckResult, ...]:
    """Fail every check, because the grader's own files changed during the run."""
    listed = ", ".join(tampered[:5]) + (" ..." if len(tampered) > 5 else "")
    message = (
        "Expected: the grader's files unchanged while the submission runs\n"
        f"Found: {len(tampered)} changed: {listed}\n"
        "Hint: the grade is invalid. A submission must not write outside its "
        "working directory; restore the grader (for example git checkout) "
        "and grade again."
    )
    return tuple(
        replace(check, status="failed", points=0, message=message) for check in checks
    )


def train(
    submission: Path, workdir: Path, settings: RunSettings, console: Console
) -> SubmissionRun:
    """Run the task groups, showing progress; import the report's modules meanwhile."""
    warm_up = threading.Thread(target=import_report_modules, daemon=True)
    with Progress(console) as progress:
        warm_up.start()
        run = run_submission(submission, workdir, settings, progress.on_event)
    warm_up.join()
    return run


def check(run: SubmissionRun, source: bytes) -> tuple[CheckResult, ...]:
    from grader.events import read_events
    from grader.plugin import GradingPlugin, run_checks

    events = read_events(run.workdir)
    answers = read_answers(source)
    plugin = GradingPlugin(run, events, answers)
    exit_code = run_checks(plugin)
    if exit_code not in (0, 1):
        raise RuntimeError(f"pytest ended the rubric checks with exit code {exit_code}")
    return plugin.results()


def import_report_modules() -> None:
    """Import pandas, tbparse and pytest while the children train (about 0.4 s)."""
    import grader.events  # noqa: F401
    import grader.plugin  # noqa: F401


def make_console(color: str) -> Console:
    if color == "always":
        return Console(force_terminal=True)
    if color == "never":
        return Console(no_color=True)
    return Console()


def write_reports(result: GradeResult, options: argparse.Namespace) -> GradeResult:
    """Write every report file; return the result, marked failed if one is missing.

    Each format is rendered from the same result, and a file that cannot be
    written does not stop the others.
    """
    writers: list[tuple[Path, Callable[[GradeResult, Path], None]]] = [
        (options.report_dir / "results.json", write_json),
        (options.report_dir / "junit.xml", write_junit),
    ]
    if options.gradescope_results is not None:
        writers.append((options.gradescope_results, write_gradescope))

    for path, write in writers:
        try:
            write(result, path)
        except (OSError, ValueError) as error:  # ValueError: text UTF-8 cannot hold
            logger.error("Cannot write %s: %s", path, error)
            result = replace(result, grader_error=f"Cannot write {path}: {error}")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    options = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    console = make_console(options.color)
    if not options.github:
        return grade_and_report(options, console).exit_code

    # The report quotes text that the submission influenced, so no line of it
    # may act as a workflow command; annotations are printed after the pause.
    with commands_stopped(sys.stdout):
        result = grade_and_report(options, console)
    try:
        publish_to_github(result)
    except OSError as error:
        logger.error("Cannot write the GitHub Actions outputs: %s", error)
        return 2
    return result.exit_code


def publish_to_github(result: GradeResult) -> None:
    """Print the annotations and write the step outputs and the step summary."""
    source = read_submission_source(result.submission)
    path = path_in_repository(result.submission, os.environ)
    for line in annotations(result, source, path):
        print(line)
    write_github_outputs(result, os.environ, source, path)


def grade_and_report(options: argparse.Namespace, console: Console) -> GradeResult:
    """Grade, write the report files and print the report; return the result."""
    phases = PhaseTimes()
    started = datetime.now().astimezone()
    try:
        result = grade(options, console, phases)
    except Exception as error:  # the outermost handler: a report is still written
        logger.error("The grader failed:\n%s", traceback.format_exc())
        message = f"The grader failed: {type(error).__name__}: {error}"
        result = GradeResult(
            str(options.submission), started.isoformat(timespec="seconds"),
            0.0, errored_checks(message), (), grader_error=message,
        )  # fmt: skip

    result = write_reports(result, options)
    render_result(result, console)
    path = options.report_dir / "results.json"
    console.print(f"Report: {path}", markup=False, highlight=False)
    if options.timings is not None:
        phases.write(options.timings)
    return result
