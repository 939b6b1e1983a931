"""Part 1: create_tensorboard_callback and the Task 1.2 run."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from grader.checks.support import (
    describe_steps,
    fail,
    in_grading_window,
    parse_run_name,
    parse_timestamp,
    probe_events,
    require_epochs,
    require_run,
    require_step,
)
from grader.events import EventTable
from grader.runner import SubmissionRun

PROBE_EXPERIMENT = "probe_run"
EXPECTED_SETTINGS = {"histogram_freq": 1, "write_graph": True, "update_freq": "epoch"}
CURVE_TAGS = ("epoch_loss", "epoch_accuracy")


def returned_callbacks(run: SubmissionRun) -> list[dict]:
    require_step(run, "probe_callback")
    return [
        event["returned"] for event in probe_events(run, "probe_callback", "callback")
    ]


def require_tensorboard(run: SubmissionRun) -> list[dict]:
    callbacks = returned_callbacks(run)
    for callback in callbacks:
        if not callback.get("is_tensorboard"):
            class_name = callback.get("class", "?")
            found = "None" if class_name == "builtins.NoneType" else f"a {class_name}"
            raise fail(
                "create_tensorboard_callback returns a keras.callbacks.TensorBoard",
                f"it returned {found}",
                "End the function with "
                "return keras.callbacks.TensorBoard(log_dir=...).",
            )
    return callbacks


def log_dir_parts(callback: dict) -> tuple[str, ...]:
    return PurePath(str(callback.get("log_dir_relative", ""))).parts


@pytest.mark.check("callback_type")
def test_callback_type(run: SubmissionRun) -> None:
    require_tensorboard(run)


@pytest.mark.check("callback_settings")
def test_callback_settings(run: SubmissionRun) -> None:
    callback = require_tensorboard(run)[0]
    wrong = [
        f"{name}={callback.get(name)!r}"
        for name, expected in EXPECTED_SETTINGS.items()
        if callback.get(name) != expected
    ]
    if wrong:
        raise fail(
            "histogram_freq=1, write_graph=True, update_freq='epoch'",
            ", ".join(wrong),
            "Pass all three as keyword arguments to keras.callbacks.TensorBoard.",
        )


@pytest.mark.check("log_dir_format")
def test_log_dir_format(run: SubmissionRun) -> None:
    callback = require_tensorboard(run)[0]
    parts = log_dir_parts(callback)
    parsed = parse_run_name(parts[-1]) if len(parts) == 2 else None
    if (
        parts[:1] != ("logs",)
        or parsed is None
        or parsed[0] != PROBE_EXPERIMENT
        or parse_timestamp(parsed[1]) is None
    ):
        raise fail(
            f'create_tensorboard_callback("{PROBE_EXPERIMENT}") logs to '
            f"logs/{PROBE_EXPERIMENT}_<YYYYMMDD-HHMMSS>",
            f"log_dir={callback.get('log_dir')!r}",
            'Build it with os.path.join("logs", f"{experiment_name}_{timestamp}") '
            'and timestamp = datetime.now().strftime("%Y%m%d-%H%M%S").',
        )


def call_moment(before: str, after: str) -> str:
    if before == after:
        return f"the timestamp {before}, the moment of the call"
    return f"a timestamp between {before} and {after}, the moments around the call"


@pytest.mark.check("log_dir_timestamp_current")
def test_log_dir_timestamp_current(run: SubmissionRun, events: EventTable) -> None:
    require_tensorboard(run)
    for event in probe_events(run, "probe_callback", "callback"):
        parts = log_dir_parts(event["returned"])
        parsed = parse_run_name(parts[-1]) if parts else None
        stamp = parsed[1] if parsed else ""
        if not event["before"] <= stamp <= event["after"]:
            raise fail(
                call_moment(event["before"], event["after"]),
                f"log_dir={event['returned'].get('log_dir')!r}",
                "Make the timestamp inside the function with datetime.now(), so each "
                "call gets the time it runs.",
            )

    for folder in events.run_folders():
        parsed = parse_run_name(folder)
        moment = parse_timestamp(parsed[1]) if parsed else None
        if moment is not None and not in_grading_window(run, moment):
            raise fail(
                "run folders stamped with the time they were written",
                f"{folder}, while the grading ran from {run.started:%Y%m%d-%H%M%S} "
                f"to {run.finished:%Y%m%d-%H%M%S}",
                "Do not write a fixed timestamp; take datetime.now() at each call.",
            )


@pytest.mark.check("log_dir_unique")
def test_log_dir_unique(run: SubmissionRun) -> None:
    first, second = (callback["log_dir"] for callback in require_tensorboard(run))
    if first == second:
        raise fail(
            "two calls 1.1 s apart return different log directories",
            f"both calls returned log_dir={first!r}",
            'Add a timestamp with datetime.now().strftime("%Y%m%d-%H%M%S") '
            "to the name.",
        )


@pytest.mark.check("basic_run_curves")
def test_basic_run_curves(run: SubmissionRun, events: EventTable) -> None:
    folder = require_run(run, events, "basic_test", "basic_test")
    for part in ("train", "validation"):
        for tag in CURVE_TAGS:
            require_epochs(events, f"{folder}/{part}", tag, epochs=5)


@pytest.mark.check("basic_run_histograms")
def test_basic_run_histograms(run: SubmissionRun, events: EventTable) -> None:
    folder = require_run(run, events, "basic_test", "basic_test") + "/train"
    tags = sorted(tag for tag in events.tags(folder) if tag.endswith("/histogram"))
    if not tags:
        raise fail(
            f"weight histograms (tags ending in /histogram) in {folder}",
            "no histogram tags",
            "Create the callback with histogram_freq=1.",
        )
    # Keras 3.12 tags histograms by variable name only, so the two Dense layers
    # both write "kernel/histogram" and each step appears twice; Keras 3.15
    # writes "<layer path>/kernel/histogram", once per step.
    steps = sorted({step for step, _ in events.values(folder, tags[0])})
    if steps != list(range(5)):
        raise fail(
            f"{tags[0]} in {folder} for each of epochs 0 to 4",
            f"steps {describe_steps(steps)}",
            "Create the callback with histogram_freq=1.",
        )


@pytest.mark.check("basic_run_model_description")
def test_basic_run_model_description(run: SubmissionRun, events: EventTable) -> None:
    folder = require_run(run, events, "basic_test", "basic_test") + "/train"
    if "keras" not in events.tags(folder):
        raise fail(
            f"the model description (tag 'keras') in {folder}",
            "no 'keras' tag",
            "Create the callback with write_graph=True.",
        )
