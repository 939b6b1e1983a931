"""Shared pieces of the checks: the failure type and readers of the run's evidence."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from pathlib import PurePosixPath

from grader.events import EventTable
from grader.provenance import keras_run_problem
from grader.runner import SubmissionRun
from grader.runner.limits import error_limit
from grader.runner.steps import StepOutcome

TIMESTAMP_FORMAT = "%Y%m%d-%H%M%S"
RUN_NAME = re.compile(r"^(?P<name>.+)_(?P<timestamp>\d{8}-\d{6})$")
CLOCK_SLACK = timedelta(seconds=2)

STEP_TITLES = {
    "import": "importing your file",
    "probe_callback": 'calling create_tensorboard_callback("probe_run") twice',
    "basic_test": "basic_test() (Task 1.2)",
    "custom_metrics_test": "custom_metrics_test() (Task 2.2)",
    "probe_custom_metrics": (
        "the CustomMetricsCallback test "
        "(create_model, then on_epoch_end with known logs)"
    ),
    "compare_learning_rates": "compare_learning_rates() (Task 3.1)",
}
TASK_STEPS = ("basic_test", "custom_metrics_test", "compare_learning_rates")
STARTER_NAMES = (
    "create_tensorboard_callback", "create_model", "CustomMetricsCallback",
    *TASK_STEPS,
)  # fmt: skip


class CheckFailed(AssertionError):
    """A check the submission does not meet; its message is for the student."""


def fail(expected: str, found: str, hint: str = "") -> CheckFailed:
    lines = [f"Expected: {expected}", f"Found: {found}"]
    if hint:
        lines.append(f"Hint: {hint}")
    return CheckFailed("\n".join(lines))


# --- steps ---------------------------------------------------------------


def group_of(run: SubmissionRun, step: str) -> str:
    return run.steps[step].group


def require_step(run: SubmissionRun, step: str) -> StepOutcome:
    """Return the step's outcome, or raise CheckFailed saying why it did not finish."""
    outcome = run.steps[step]
    imported = run.steps[f"import:{outcome.group}"]
    if imported.status != "ok":
        raise step_failure(run, imported, title=STEP_TITLES["import"])
    if any(event.get("event") == "fit_start" for event in imported.events):
        raise fail(
            "importing your file trains nothing: the grader calls each task itself",
            "model.fit ran while the grader imported your file, so every task "
            "group trained every task at once in one folder",
            'Call main() only under if __name__ == "__main__":, as the starter does.',
        )
    if outcome.status != "ok":
        raise step_failure(run, outcome, title=STEP_TITLES[step])
    return outcome


LIMIT_HINTS = {
    "cpu_time": "Look for a loop that never ends, or far more epochs than the "
    "task asks for.",
    "memory": "Look for a list or array that grows without end, or a model far "
    "larger than the task asks for.",
    "file_size": "Look for a loop that prints or writes without end.",
    "processes": "Do not start processes or fork: each task needs only one.",
}


def hit_limit(run: SubmissionRun, outcome: StepOutcome) -> bool:
    """Tell whether the group's limit is why this step did not finish."""
    group = run.groups[outcome.group]
    if group.limit not in LIMIT_HINTS:
        return False
    if outcome.status != "error":
        return True  # the group was stopped while the step ran, or before it
    error = outcome.error or {}
    return error_limit(f"{error.get('type', '')}: {error.get('message', '')}") == (
        group.limit
    )


def step_failure(run: SubmissionRun, outcome: StepOutcome, title: str) -> CheckFailed:
    group = run.groups[outcome.group]
    if hit_limit(run, outcome):
        error = outcome.error or {}
        raised = f" ({error['type']}: {error.get('message', '')})" if error else ""
        return fail(
            "the step runs to the end within the grader's limits",
            f"{title} did not finish: its task group exceeded "
            f"{group.limit_description}{raised}",
            LIMIT_HINTS[group.limit],
        )
    if outcome.status == "error":
        return error_failure(outcome.error or {}, title, run.submission.name)

    if group.status == "timed_out":
        found = (
            f"{title} did not finish: its task group was stopped after the "
            f"{group.time_limit_s:.0f} s time limit."
        )
        hint = "Look for a loop that never ends, input(), or sleep() calls."
    else:
        found = (
            f"{title} did not finish: the process ended with "
            f"{describe_exit(group.exit_code)}."
        )
        hint = "The last lines it printed: " + last_lines(group.stderr or group.stdout)
    return fail("the step runs to the end", found, hint)


def describe_exit(exit_code: int | None) -> str:
    if exit_code is None:
        return "no exit status"
    if exit_code < 0:
        return f"signal {-exit_code}"
    return f"exit code {exit_code}"


def last_lines(text: str, count: int = 5) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return " | ".join(lines[-count:]) or "(nothing)"


def error_failure(error: dict, title: str, file_name: str) -> CheckFailed:
    kind = str(error.get("type", "Exception"))
    message = str(error.get("message", ""))
    if kind == "NotImplementedError" and message.startswith("Task "):
        return fail(
            f"{title} runs without error",
            f"still a TODO: {message}",
            "Complete the TODO as submission/README.md describes, then grade again.",
        )

    where = ""
    frames = error.get("frames") or []
    if frames:
        frame = frames[-1]
        code = str(frame.get("code", "")).strip()
        where = f" at {file_name}, line {frame.get('line')}"
        if frame.get("function"):
            where += f", in {frame.get('function')}"
        if code:
            where += f": {code}"
    return fail(
        f"{title} runs without error",
        f"{kind}: {message}{where}",
        hint_for_error(kind, message),
    )


def hint_for_error(kind: str, message: str) -> str:
    if kind == "AttributeError" and "get_value" in message:
        return (
            "keras.backend.get_value does not exist in Keras 3. Read the rate with "
            "float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))."
        )
    if kind == "AttributeError" and "'lr'" in message:
        return "Keras 3 optimizers call it learning_rate, not lr."
    if kind == "ZeroDivisionError":
        return "Guard the division: the ratio is 0 when val_loss is not positive."
    if kind == "KeyError" and "val_loss" in message:
        return 'val_loss can be missing: use logs.get("val_loss", 1).'
    if kind == "SyntaxError" and "utf-8" in message.lower():
        return "Save the file as UTF-8: the grader and Python read it that way."
    if kind == "SyntaxError":
        return "Fix the syntax error; python -m py_compile FILE shows it too."
    if kind == "AttributeError" and "module 'submission' has no attribute" in message:
        return (
            "Keep every function and class of the starter under its name: "
            + ", ".join(STARTER_NAMES)
            + "."
        )
    if kind == "TypeError" and "argument" in message:
        return (
            "Keep the starter's signatures: create_tensorboard_callback"
            "(experiment_name), create_model(learning_rate=0.001), "
            "CustomMetricsCallback(log_dir), and the tasks without arguments."
        )
    if kind in ("PermissionError", "URLError") and "off while grading" in message:
        return (
            "The grader runs your code without network, other programs, or "
            "files outside its working folder; the exercise needs none of them."
        )
    if kind in ("ModuleNotFoundError", "ImportError"):
        return "Import only tensorflow, keras, numpy and the standard library."
    if kind == "SystemExit":
        return "Do not call sys.exit() or exit() in the graded functions."
    return "Run your file with python and read the traceback."


# --- events ----------------------------------------------------------------


def parse_run_name(folder: str) -> tuple[str, str] | None:
    """Return (experiment name, timestamp) of a folder named <name>_<timestamp>."""
    match = RUN_NAME.match(PurePosixPath(folder).name)
    if match is None:
        return None
    return match["name"], match["timestamp"]


def parse_timestamp(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, TIMESTAMP_FORMAT)
    except ValueError:
        return None


def in_grading_window(run: SubmissionRun, moment: datetime) -> bool:
    return run.started - CLOCK_SLACK <= moment <= run.finished + CLOCK_SLACK


def experiment_name(folder: str) -> str:
    """Return a run folder's name without its timestamp, when it has one."""
    parsed = parse_run_name(folder)
    return parsed[0] if parsed else PurePosixPath(folder).name


def runs_named(events: EventTable, name: str) -> list[str]:
    """Return the run folders of experiment ``name``, timestamped or not.

    Folders without a timestamp count here, because the log-directory checks
    already score the timestamp; the curves are graded on their own.
    """
    return [
        folder for folder in events.run_folders() if experiment_name(folder) == name
    ]


def describe_folders(folders: list[str], limit: int = 8) -> str:
    if not folders:
        return "no folders"
    listed = ", ".join(folders[:limit])
    if len(folders) > limit:
        listed += f" and {len(folders) - limit} more"
    return listed


def require_run(run: SubmissionRun, events: EventTable, name: str, step: str) -> str:
    """Return the newest run folder ``name`` that model.fit wrote, or raise why not.

    A step that raised fails the check too, also after its run was logged,
    because the script would stop there when the student runs it.
    """
    require_step(run, step)
    folders = runs_named(events, name)
    for folder in reversed(folders):
        if keras_run_problem(run, events, folder) is None:
            return folder
    if folders:
        raise fail(
            f"a run folder logs/{name}_<YYYYMMDD-HHMMSS> that the TensorBoard "
            "callback wrote during model.fit",
            str(keras_run_problem(run, events, folders[-1])),
            FORGED_HINT,
        )
    raise fail(
        f"a run folder logs/{name}_<YYYYMMDD-HHMMSS> with train/ and validation/",
        "run folders: " + describe_folders(events.run_folders()) + stale_note(events),
        f'{STEP_TITLES[step]} should pass create_tensorboard_callback("{name}") '
        "to model.fit(callbacks=[...]).",
    )


FORGED_HINT = (
    "Only logs that model.fit writes through the TensorBoard callback during "
    "grading count; the grader compares them with the losses model.fit reported."
)


def stale_note(events: EventTable) -> str:
    """Name the event files that were left out for being older than the grading run."""
    if not events.stale:
        return ""
    return (
        " (left out, because they were not written during this grading run: "
        + describe_folders(list(events.stale), limit=3)
        + ")"
    )


def require_epochs(events: EventTable, folder: str, tag: str, epochs: int) -> None:
    steps = [step for step, _ in events.scalars(folder, tag)]
    if steps != list(range(epochs)):
        raise fail(
            f"{tag} in {folder} once for each of epochs 0 to {epochs - 1}",
            f"steps {describe_steps(steps)}",
            "Train with the epochs the task asks for and validation_split=0.2.",
        )


def describe_steps(steps: list[int]) -> str:
    if not steps:
        return "none (the tag is missing)"
    if len(steps) > 12:
        return f"{steps[:12]} ... ({len(steps)} values)"
    return str(steps)


def close(value: float, expected: float, rel: float = 1e-4, abs_: float = 1e-6) -> bool:
    return math.isfinite(value) and math.isclose(
        value, expected, rel_tol=rel, abs_tol=abs_
    )


def probe_events(run: SubmissionRun, step: str, probe: str) -> list[dict]:
    return [
        event
        for event in run.steps[step].events
        if event.get("event") == "probe" and event.get("probe") == probe
    ]
