"""Part 3: compare_learning_rates and its three runs."""

from __future__ import annotations

import math
import re

import pytest

from grader.checks.support import (
    FORGED_HINT,
    close,
    describe_folders,
    experiment_name,
    fail,
    require_epochs,
    require_step,
    stale_note,
)
from grader.events import EventTable
from grader.provenance import keras_run_problem
from grader.runner import SubmissionRun

RATES = (0.001, 0.01, 0.1)
EPOCHS = 20
STEP = "compare_learning_rates"
OTHER_TASK_RUNS = ("basic_test", "custom_metrics_test")
# A number in a run name: "0.001", "1e-3", "0_001" (a name cannot hold a dot
# on every file system, so an underscore is read as a decimal point too).
NAME_NUMBER = re.compile(r"\d+(?:[._]\d+)?(?:[eE]-?\d+)?")
# "0.9275", ".93", "92.75%", "93 %": a number with decimals, or a whole
# percentage. A whole number without "%" is left out, because "0" from
# "lr=0" or "1" from "1 of 3" would match an accuracy within 0.5.
PRINTED_NUMBER = re.compile(r"(?<![\w.])(\d*\.(\d+)|\d+)(\s?%)?")
# A printed number matches an accuracy within its printed precision, but never
# further away than this, so "0.9" does not stand for 0.9275.
MAX_PRINTED_ERROR = 0.005
# Printed numbers that together match more than this share of the range 0 to
# 1 show no accuracy in particular: "0.50 0.51 ... 1.00" matches any good run.
# Three runs printed to two decimals cover 0.03; printing the whole history
# at full precision covers next to nothing.
MAX_PRINTED_COVERAGE = 0.2


def rate_of(folder: str) -> float | None:
    """Return the learning rate that a run folder's name stands for, if any."""
    name = experiment_name(folder)
    if name in OTHER_TASK_RUNS:
        return None
    for text in NAME_NUMBER.findall(name):
        try:
            number = float(text.replace("_", "."))
        except ValueError:
            continue
        for rate in RATES:
            if math.isclose(number, rate, rel_tol=1e-9):
                return rate
    return None


def comparison_runs(run: SubmissionRun, events: EventTable) -> dict[float, str]:
    """Return the newest run folder per learning rate; raise when one is missing."""
    require_step(run, STEP)
    runs: dict[float, str] = {}
    problems: dict[float, str] = {}
    for folder in events.run_folders():
        rate = rate_of(folder)
        if rate is None:
            continue
        problem = keras_run_problem(run, events, folder)
        if problem is None:
            runs[rate] = folder
        else:
            problems[rate] = problem

    missing = [rate for rate in RATES if rate not in runs]
    forged = [rate for rate in missing if rate in problems]
    if forged:
        raise fail(
            f"the run for {forged[0]} written by the TensorBoard callback "
            "during model.fit",
            problems[forged[0]],
            FORGED_HINT,
        )
    if missing:
        raise fail(
            "one run folder per learning rate, named after it (for example "
            "logs/lr_0.001_<YYYYMMDD-HHMMSS>)",
            f"no run for {', '.join(map(str, missing))}; run folders: "
            + describe_folders(events.run_folders())
            + stale_note(events),
            'Give each run its own callback: create_tensorboard_callback(f"lr_{lr}").',
        )
    return runs


@pytest.mark.check("comparison_three_runs")
def test_comparison_three_runs(run: SubmissionRun, events: EventTable) -> None:
    comparison_runs(run, events)


@pytest.mark.check("comparison_epochs")
def test_comparison_epochs(run: SubmissionRun, events: EventTable) -> None:
    for folder in comparison_runs(run, events).values():
        for part in ("train", "validation"):
            require_epochs(events, f"{folder}/{part}", "epoch_loss", epochs=EPOCHS)


@pytest.mark.check("comparison_trained_at_rate")
def test_comparison_trained_at_rate(run: SubmissionRun, events: EventTable) -> None:
    for rate, folder in comparison_runs(run, events).items():
        values = events.scalars(f"{folder}/train", "epoch_learning_rate")
        wrong = [
            (step, value) for step, value in values if not close(value, rate, 1e-5)
        ]
        if not values or wrong:
            found = (
                f"{wrong[0][1]:.6g} at step {wrong[0][0]}"
                if wrong
                else "no epoch_learning_rate values"
            )
            raise fail(
                f"the run {folder} trains at learning rate {rate} "
                "(its epoch_learning_rate)",
                found,
                "Build each run's model with create_model(learning_rate=lr).",
            )


def printed_numbers(text: str) -> list[tuple[float, float]]:
    """Return (value, tolerance) for each decimal number printed, percentages scaled."""
    numbers = []
    for match in PRINTED_NUMBER.finditer(text):
        decimals = len(match[2] or "")
        if not decimals and not match[3]:
            continue
        value = float(match[1])
        tolerance = 0.5 * 10**-decimals
        if match[3]:
            value, tolerance = value / 100, tolerance / 100
        numbers.append((value, min(tolerance, MAX_PRINTED_ERROR) + 1e-7))
    return numbers


def coverage(numbers: list[tuple[float, float]]) -> float:
    """Return how much of the range 0 to 1 the printed numbers match together."""
    spans = sorted(
        (max(value - tolerance, 0.0), min(value + tolerance, 1.0))
        for value, tolerance in numbers
        if value + tolerance > 0 and value - tolerance < 1
    )
    covered, reach = 0.0, 0.0
    for start, end in spans:
        start = max(start, reach)
        if end > start:
            covered += end - start
            reach = end
    return covered


def printed(numbers: list[tuple[float, float]], accuracy: float) -> bool:
    return any(abs(value - accuracy) <= tolerance for value, tolerance in numbers)


@pytest.mark.check("comparison_printed_accuracy")
def test_comparison_printed_accuracy(run: SubmissionRun, events: EventTable) -> None:
    runs = comparison_runs(run, events)
    output = run.groups["comparison"].stdout
    numbers = printed_numbers(output)
    share = coverage(numbers)
    if share > MAX_PRINTED_COVERAGE:
        raise fail(
            "each run's final validation accuracy printed",
            f"{len(numbers)} numbers printed that together match {share:.0%} of "
            "the range 0 to 1, so they show no accuracy in particular",
            "Print one line per run with history.history['val_accuracy'][-1].",
        )
    for rate, folder in runs.items():
        accuracy = events.scalars(f"{folder}/validation", "epoch_accuracy")
        if not accuracy:
            raise fail(
                f"validation accuracy logged in {folder}/validation",
                "no epoch_accuracy values",
                "Train with validation_split=0.2 and the accuracy metric.",
            )
        final = accuracy[-1][1]
        if not printed(numbers, final):
            raise fail(
                f"the final validation accuracy of the {rate} run "
                f"({final:.4f}) printed, to at least two decimals",
                "printed: " + (shorten(output) or "nothing"),
                "Print history.history['val_accuracy'][-1] after each model.fit, "
                "for example with f'{accuracy:.4f}'.",
            )


def shorten(text: str, limit: int = 300) -> str:
    text = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    return text if len(text) <= limit else text[:limit] + " ..."
