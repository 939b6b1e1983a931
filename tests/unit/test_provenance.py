"""Which logs count, judged on the recorded reference run and altered copies of it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from grader.events import EventTable, read_events
from grader.provenance import (
    drop_stale,
    fit_windows,
    keras_run_problem,
    traced_fits,
    written_during,
)
from grader.runner import SubmissionRun
from tests.recorded_run import RECORDING, load_run

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = PROJECT_ROOT / "fixtures" / "submissions" / "reference"


@pytest.fixture
def run(tmp_path: Path) -> SubmissionRun:
    return load_run(
        RECORDING, tmp_path / "workdir", REFERENCE / "tensorboard_starter.py"
    )


def run_folder(events: EventTable, prefix: str) -> str:
    (folder,) = [name for name in events.run_folders() if name.startswith(prefix)]
    return folder


def with_values(events: EventTable, folder: str, scale: float) -> EventTable:
    frame = events.frame.copy()
    rows = (frame["folder"] == folder) & (frame["tag"] == "epoch_loss")
    frame.loc[rows, "value"] = frame.loc[rows, "value"].astype(float) * scale
    return dataclasses.replace(events, frame=frame)


def test_every_reference_run_traced(run: SubmissionRun) -> None:
    events = read_events(run.workdir)
    for folder in events.run_folders():
        assert keras_run_problem(run, events, folder) is None, folder


def test_five_traced_fits(run: SubmissionRun) -> None:
    fits = traced_fits(run)
    assert [fit.step for fit in fits].count("compare_learning_rates") == 3
    assert len(fits) == 5
    assert all(fit.started < fit.ended for fit in fits)


def test_changed_loss_found(run: SubmissionRun) -> None:
    events = read_events(run.workdir)
    folder = run_folder(events, "logs/basic_test")
    altered = with_values(events, f"{folder}/train", 1.01)
    problem = keras_run_problem(run, altered, folder)
    assert problem is not None
    assert "epoch_loss at step 0" in problem
    assert "model.fit reported a loss of" in problem


def test_untraced_folder_found(run: SubmissionRun) -> None:
    events = read_events(run.workdir)
    problem = keras_run_problem(run, events, "logs/lr_0.5_20261204-153300")
    assert "was not the log directory of a TensorBoard callback" in str(problem)


def test_event_after_fit_found(run: SubmissionRun) -> None:
    events = read_events(run.workdir)
    folder = run_folder(events, "logs/basic_test") + "/train"
    windows = fit_windows(run, "basic_test")
    assert written_during(events, folder, windows) is None
    shifted = [(start, end - 30) for start, end in windows]
    problem = written_during(events, folder, shifted)
    assert "outside model.fit" in str(problem)


def test_stale_events_dropped(run: SubmissionRun) -> None:
    events = read_events(run.workdir)
    assert drop_stale(events, run).stale == ()
    later = dataclasses.replace(run, started=run.finished + timedelta(hours=1))
    dropped = drop_stale(events, later)
    assert dropped.frame.empty
    assert len(dropped.stale) == len(events.files())
