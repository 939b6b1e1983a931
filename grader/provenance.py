"""Provenance of the logs: what this grading run's training really wrote.

A log folder earns points only for what the student's training wrote while
the grader watched. Three tests decide it:

- every event of the folder carries a wall time inside the grading run, so
  logs committed with the submission or copied in from elsewhere count for
  nothing (``drop_stale``);
- a Keras run folder is the log directory of a TensorBoard callback that a
  traced ``model.fit`` call used, its events were written while that call ran,
  and its ``epoch_loss`` values are the losses the call reported epoch by
  epoch (``keras_run_problem``);
- a folder the student's own callback wrote was written while one of the
  task's ``model.fit`` calls ran (``written_during``).

Curves written by hand with ``tf.summary`` fail the second test, because no
traced call lists their folder or reported their values. The trace comes from
the student's process, so a submission that forges trace lines as well is out
of reach here; docs/security.md lists it.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from grader.events import EventTable
from grader.runner import SubmissionRun

# Between the grader's clock readings at the start and end of the run and the
# event wall times, because the grader reads its clock outside the children.
SLACK_S = 2.0
# TensorFlow stamps an event when the summary is written, with the same
# clock that the trace reads just before and just after model.fit, so a
# window needs no slack beyond the clock's rounding.
WINDOW_SLACK_S = 0.001
LOSS_TOLERANCE = 1e-4


@dataclass(frozen=True)
class Fit:
    """One model.fit call as the driver traced it."""

    step: str
    started: float
    ended: float
    log_dirs: frozenset[str]
    epoch_logs: dict[int, dict[str, float]]


def normal_folder(path: str) -> str:
    return PurePosixPath(os.path.normpath(path).replace(os.sep, "/")).as_posix()


def traced_fits(run: SubmissionRun) -> list[Fit]:
    fits = []
    for outcome in run.steps.values():
        step_end = next(
            (e["time"] for e in outcome.events if e.get("event") == "step_end"),
            run.finished.timestamp(),
        )
        current: dict | None = None
        for event in outcome.events:
            kind = event.get("event")
            if kind == "fit_start":
                if current is not None:
                    fits.append(_fit(outcome.step, current, step_end))
                current = {"start": event, "epochs": {}, "end": None}
            elif kind == "epoch_end" and current is not None:
                current["epochs"][int(event.get("epoch", -1))] = event.get("logs", {})
            elif kind == "fit_end" and current is not None:
                fits.append(_fit(outcome.step, current, event["time"]))
                current = None
        if current is not None:
            fits.append(_fit(outcome.step, current, step_end))
    return fits


def _fit(step: str, record: dict, ended: float) -> Fit:
    start = record["start"]
    log_dirs = frozenset(
        normal_folder(str(callback.get("log_dir_relative", "")))
        for callback in start.get("callbacks", [])
        if isinstance(callback, dict) and callback.get("is_tensorboard")
    )
    return Fit(step, float(start["time"]), float(ended), log_dirs, record["epochs"])


def drop_stale(events: EventTable, run: SubmissionRun) -> EventTable:
    """Return the table without events written outside the grading run's time."""
    if events.frame.empty:
        return events
    start = run.started.timestamp() - SLACK_S
    end = run.finished.timestamp() + SLACK_S
    wall = events.frame["wall_time"].astype(float)
    fresh = (wall >= start) & (wall <= end)
    stale_files = sorted(set(events.frame.loc[~fresh, "file"]))
    return dataclasses.replace(
        events,
        frame=events.frame[fresh].reset_index(drop=True),
        stale=events.stale + tuple(stale_files),
    )


def keras_run_problem(
    run: SubmissionRun, events: EventTable, folder: str
) -> str | None:
    """Return why ``folder`` is not what a traced model.fit call logged, or None."""
    fits = [fit for fit in traced_fits(run) if folder in fit.log_dirs]
    if not fits:
        return (
            f"{folder} was not the log directory of a TensorBoard callback in any "
            "model.fit call of this grading run"
        )
    for part, key in (("train", "loss"), ("validation", "val_loss")):
        written = f"{folder}/{part}"
        problem = written_during(events, written, [(f.started, f.ended) for f in fits])
        if problem is not None:
            return problem
        for step, value in events.scalars(written, "epoch_loss"):
            reported = [fit.epoch_logs.get(step, {}).get(key) for fit in fits]
            if not any(_same(value, loss) for loss in reported):
                return _mismatch(written, step, value, key, reported)
    return None


def _same(value: float, reported: object) -> bool:
    return isinstance(reported, (int, float)) and math.isclose(
        value, reported, rel_tol=LOSS_TOLERANCE, abs_tol=1e-7
    )


def _mismatch(
    folder: str, step: int, value: float, key: str, reported: list[object]
) -> str:
    numbers = [loss for loss in reported if isinstance(loss, (int, float))]
    if not numbers:
        fit_report = f"no model.fit call reported a {key} for epoch {step}"
    else:
        fit_report = f"model.fit reported a {key} of {numbers[0]:.4g} for that epoch"
    return f"epoch_loss at step {step} in {folder} is {value:.4g}, but {fit_report}"


def fit_windows(run: SubmissionRun, step: str) -> list[tuple[float, float]]:
    return [(fit.started, fit.ended) for fit in traced_fits(run) if fit.step == step]


def step_window(run: SubmissionRun, step: str) -> list[tuple[float, float]]:
    times = [float(event["time"]) for event in run.steps[step].events]
    return [(min(times), max(times))] if times else []


def written_during(
    events: EventTable, folder: str, windows: list[tuple[float, float]]
) -> str | None:
    """Return why some event in ``folder`` lies outside every window, or None."""
    rows = events.frame[events.frame["folder"] == folder]
    for tag, wall_time in zip(rows["tag"], rows["wall_time"], strict=True):
        moment = float(wall_time)
        if not any(
            start - WINDOW_SLACK_S <= moment <= end + WINDOW_SLACK_S
            for start, end in windows
        ):
            clock = datetime.fromtimestamp(moment).strftime("%H:%M:%S")
            during = "model.fit" if windows else "any model.fit call (there was none)"
            return (
                f"'{tag}' in {folder} was written at {clock}, outside {during} "
                "of the task that should have written it"
            )
    return None
