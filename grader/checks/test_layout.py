"""Log folders: one logs/ root for every run, and no folder shared by two runs."""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath

import pytest

from grader.checks.support import (
    FORGED_HINT,
    TASK_STEPS,
    describe_folders,
    fail,
    require_step,
)
from grader.events import EventTable
from grader.provenance import keras_run_problem
from grader.runner import SubmissionRun


def require_any_run(run: SubmissionRun, events: EventTable) -> None:
    """Raise unless model.fit wrote at least one run folder during grading."""
    folders = events.run_folders()
    problems = [keras_run_problem(run, events, folder) for folder in folders]
    if None in problems:
        return
    if problems:
        raise fail(
            "run folders that the TensorBoard callback wrote during model.fit",
            str(problems[-1]),
            FORGED_HINT,
        )
    for step in TASK_STEPS:
        require_step(run, step)
    raise fail(
        "run folders under logs/, each with train/ and validation/",
        "no run folders; folders with event files: "
        + describe_folders(student_folders(run, events)),
        "Pass create_tensorboard_callback(...) to model.fit(callbacks=[...]).",
    )


def student_folders(run: SubmissionRun, events: EventTable) -> list[str]:
    probe_root = PurePosixPath(run.probe_log_dir).parts[0]
    return [
        folder
        for folder in events.folders()
        if PurePosixPath(folder).parts[:1] != (probe_root,)
    ]


@pytest.mark.check("runs_under_one_root")
def test_runs_under_one_root(run: SubmissionRun, events: EventTable) -> None:
    require_any_run(run, events)
    outside = [
        folder
        for folder in student_folders(run, events)
        if PurePosixPath(folder).parts[:1] != ("logs",)
    ]
    if outside:
        raise fail(
            "every event file under logs/, so that tensorboard --logdir=logs shows "
            "all runs side by side",
            "event files outside logs/ in " + describe_folders(outside),
            'Start every log directory with os.path.join("logs", ...).',
        )


@pytest.mark.check("runs_distinct_folders")
def test_runs_distinct_folders(run: SubmissionRun, events: EventTable) -> None:
    require_any_run(run, events)
    frame = events.frame
    # Histogram tags are left out: Keras 3.12 gives the kernels of two layers
    # the same tag, "kernel/histogram", in one run's folder.
    logged = frame[
        frame["folder"].str.startswith("logs/")
        & ~frame["tag"].str.endswith("/histogram")
    ]
    repeats = Counter(zip(logged["folder"], logged["tag"], logged["step"], strict=True))
    shared = sorted({folder for (folder, _, _), count in repeats.items() if count > 1})
    if shared:
        raise fail(
            "each run in a folder of its own, so no tag repeats a step in one folder",
            "steps written twice in " + describe_folders(shared),
            "Give every run a unique name with a timestamp, made at each call.",
        )
