"""Part 2: CustomMetricsCallback, the Task 2.2 run and the callback probe."""

from __future__ import annotations

import math

import pytest

from grader.checks.support import (
    close,
    error_failure,
    fail,
    probe_events,
    require_epochs,
    require_run,
    require_step,
)
from grader.events import EventTable
from grader.provenance import fit_windows, step_window, written_during
from grader.runner import SubmissionRun

TASK_EPOCHS = 10
TASK_LEARNING_RATE = 0.001
CUSTOM_RUN = "custom_metrics_test"
PROBE_STEP = "probe_custom_metrics"


def custom_folder(run: SubmissionRun, events: EventTable, tag: str) -> str:
    """Return the folder where Task 2.2's custom callback wrote ``tag``."""
    require_step(run, CUSTOM_RUN)
    probe_root = run.probe_log_dir.split("/")[0]
    folders = [
        folder
        for folder in events.folders()
        if folder.split("/")[0] != probe_root and tag in events.tags(folder)
    ]
    if not folders:
        raise fail(
            f"a '{tag}' scalar under logs/, written by CustomMetricsCallback",
            f"no '{tag}' tag in any folder",
            f"Write it in on_epoch_end with tf.summary.scalar('{tag}', value, "
            "step=epoch) inside 'with self.writer.as_default():'.",
        )
    named = [folder for folder in folders if CUSTOM_RUN in folder]
    windows = fit_windows(run, CUSTOM_RUN)
    problems = [written_during(events, folder, windows) for folder in named + folders]
    for folder, problem in zip(named + folders, problems, strict=True):
        if problem is None:
            return folder
    raise fail(
        f"'{tag}' written by CustomMetricsCallback while custom_metrics_test() trains",
        str(problems[0]),
        "Log the scalars from on_epoch_end of a callback passed to model.fit; "
        "values written at other times do not count.",
    )


def probe_epoch(run: SubmissionRun, epoch: int) -> dict:
    """Return the probe's record of one on_epoch_end call; raise if the call failed."""
    require_step(run, PROBE_STEP)
    record = probe_events(run, PROBE_STEP, "custom_epoch")[epoch]
    if record.get("error"):
        title = f"on_epoch_end({epoch}, logs={record['logs']})"
        raise error_failure(record["error"], title, run.submission.name)
    return record


def probe_value(run: SubmissionRun, events: EventTable, tag: str, epoch: int) -> float:
    problem = written_during(events, run.probe_log_dir, step_window(run, PROBE_STEP))
    if problem is not None:
        raise fail(
            f"'{tag}' written by on_epoch_end while the grader calls it",
            problem,
            "Write the scalars inside on_epoch_end; values written at other "
            "times do not count.",
        )
    values = dict(events.scalars(run.probe_log_dir, tag))
    if epoch not in values:
        record = probe_events(run, PROBE_STEP, "custom_epoch")[epoch]
        raise fail(
            f"on_epoch_end({epoch}, logs={record['logs']}) writes '{tag}' "
            f"at step {epoch}",
            f"steps written: {sorted(values) or 'none'}",
            "Write each scalar with step=epoch, and create the writer in __init__ "
            "with tf.summary.create_file_writer(log_dir).",
        )
    return values[epoch]


@pytest.mark.check("custom_callback_class")
def test_custom_callback_class(run: SubmissionRun) -> None:
    require_step(run, "import:custom_metrics")
    checks = probe_events(run, PROBE_STEP, "custom_class")
    if checks and not checks[0].get("is_callback"):
        raise fail(
            "class CustomMetricsCallback(keras.callbacks.Callback)",
            "CustomMetricsCallback is not a subclass of keras.callbacks.Callback",
            "Subclass keras.callbacks.Callback and call super().__init__().",
        )
    probe_epoch(run, 0)


@pytest.mark.check("custom_run_curves")
def test_custom_run_curves(run: SubmissionRun, events: EventTable) -> None:
    folder = require_run(run, events, CUSTOM_RUN, CUSTOM_RUN)
    for part in ("train", "validation"):
        for tag in ("epoch_loss", "epoch_accuracy"):
            require_epochs(events, f"{folder}/{part}", tag, epochs=TASK_EPOCHS)


@pytest.mark.check("learning_rate_logged")
def test_learning_rate_logged(run: SubmissionRun, events: EventTable) -> None:
    folder = custom_folder(run, events, "learning_rate")
    require_epochs(events, folder, "learning_rate", epochs=TASK_EPOCHS)


@pytest.mark.check("learning_rate_value")
def test_learning_rate_value(run: SubmissionRun, events: EventTable) -> None:
    folder = custom_folder(run, events, "learning_rate")
    for step, value in events.scalars(folder, "learning_rate"):
        if not close(value, TASK_LEARNING_RATE, rel=1e-5):
            raise fail(
                f"learning_rate {TASK_LEARNING_RATE} (the optimizer's rate) "
                f"in {folder}",
                f"{value:.6g} at step {step}",
                "Read the rate from self.model.optimizer.learning_rate.",
            )

    rate = run.settings.probe_learning_rate
    probe_epoch(run, 0)
    value = probe_value(run, events, "learning_rate", 0)
    if not close(value, rate, rel=1e-5):
        raise fail(
            f"learning_rate {rate} for a model built with create_model({rate})",
            f"{value:.6g}",
            "Do not write a fixed number: read the rate with "
            "float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)).",
        )


@pytest.mark.check("loss_ratio_logged")
def test_loss_ratio_logged(run: SubmissionRun, events: EventTable) -> None:
    folder = custom_folder(run, events, "loss_ratio")
    require_epochs(events, folder, "loss_ratio", epochs=TASK_EPOCHS)


@pytest.mark.check("loss_ratio_value")
def test_loss_ratio_value(run: SubmissionRun, events: EventTable) -> None:
    folder = custom_folder(run, events, "loss_ratio")
    keras_run = require_run(run, events, CUSTOM_RUN, CUSTOM_RUN)
    train = dict(events.scalars(f"{keras_run}/train", "epoch_loss"))
    validation = dict(events.scalars(f"{keras_run}/validation", "epoch_loss"))
    for step, value in events.scalars(folder, "loss_ratio"):
        if step not in train or step not in validation or validation[step] <= 0:
            continue
        expected = train[step] / validation[step]
        if not close(value, expected, rel=1e-3):
            raise fail(
                f"loss_ratio {expected:.4f} at step {step} in {folder}: the training "
                f"loss {train[step]:.4f} over the validation loss "
                f"{validation[step]:.4f}, as the TensorBoard callback logged them",
                f"{value:.4f}",
                ratio_hint(value, expected),
            )

    probe_epoch(run, 0)
    value = probe_value(run, events, "loss_ratio", 0)
    if not close(value, 2.0, rel=1e-5):
        raise fail(
            "loss_ratio 2.0 from logs={'loss': 0.6, 'val_loss': 0.3}",
            f"{value:.4f}",
            ratio_hint(value, 2.0),
        )


def ratio_hint(value: float, expected: float) -> str:
    if math.isfinite(value) and close(value * expected, 1.0, rel=1e-3):
        return "The ratio is inverted: divide logs['loss'] by logs['val_loss']."
    return "Compute logs['loss'] / logs['val_loss'] from the logs of on_epoch_end."


@pytest.mark.check("loss_ratio_zero_val_loss")
def test_loss_ratio_zero_val_loss(run: SubmissionRun, events: EventTable) -> None:
    probe_epoch(run, 1)
    value = probe_value(run, events, "loss_ratio", 1)
    if value != 0.0:
        raise fail(
            "loss_ratio 0 when val_loss is 0",
            f"{value}",
            "Guard the division: the ratio is 0 when val_loss is not positive.",
        )


@pytest.mark.check("loss_ratio_missing_val_loss")
def test_loss_ratio_missing_val_loss(run: SubmissionRun, events: EventTable) -> None:
    probe_epoch(run, 2)
    value = probe_value(run, events, "loss_ratio", 2)
    # 1 / 0.6 also counts val_loss as 1; loss_ratio_value scores the inversion.
    if not close(value, 0.6, rel=1e-5) and not close(value, 1 / 0.6, rel=1e-5):
        raise fail(
            "loss_ratio 0.6 from logs={'loss': 0.6} (val_loss counts as 1)",
            f"{value:.4f}",
            'Read it with logs.get("val_loss", 1).',
        )
