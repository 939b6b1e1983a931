"""The rubric checks on the recorded reference run, as is and with one fault each."""

from __future__ import annotations

import copy
import dataclasses
import shutil
from pathlib import Path

import pytest

from grader.events import EventTable, read_events
from grader.plugin import GradingPlugin, run_checks
from grader.reflections import read_answers
from grader.result import CheckResult
from grader.rubric import RUBRIC
from grader.runner import SubmissionRun
from tests.recorded_run import RECORDING, load_run, replace_group

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = PROJECT_ROOT / "fixtures" / "submissions" / "reference"


@pytest.fixture
def run(tmp_path: Path) -> SubmissionRun:
    return load_run(
        RECORDING, tmp_path / "workdir", REFERENCE / "tensorboard_starter.py"
    )


def grade(
    run: SubmissionRun, events: EventTable | None = None
) -> dict[str, CheckResult]:
    answers = read_answers(run.submission.read_bytes())
    events = events if events is not None else read_events(run.workdir)
    plugin = GradingPlugin(run, events, answers)
    assert run_checks(plugin) in (0, 1)
    return {result.id: result for result in plugin.results()}


def lost(results: dict[str, CheckResult]) -> set[str]:
    return {
        check_id for check_id, result in results.items() if result.status != "passed"
    }


def only_folder(run: SubmissionRun, prefix: str) -> Path:
    (folder,) = (run.workdir / "logs").glob(prefix + "_2*")
    return folder


def edit_events(run: SubmissionRun, group: str, edit) -> SubmissionRun:
    record = run.groups[group]
    events = tuple(edit(copy.deepcopy(event)) for event in record.events)
    return replace_group(run, dataclasses.replace(record, events=events))


def test_reference_earns_everything(run: SubmissionRun) -> None:
    results = grade(run)
    assert set(results) == {item.id for item in RUBRIC}
    assert lost(results) == set()


def test_missing_basic_run(run: SubmissionRun) -> None:
    shutil.rmtree(only_folder(run, "basic_test"))
    results = grade(run)
    assert lost(results) == {
        "basic_run_curves",
        "basic_run_histograms",
        "basic_run_model_description",
    }
    assert "logs/basic_test_<YYYYMMDD-HHMMSS>" in results["basic_run_curves"].message


def test_missing_rate_run(run: SubmissionRun) -> None:
    folder = only_folder(run, "lr_0.1")
    folder.rename(folder.with_name(folder.name.replace("lr_0.1", "lr_0.5")))
    results = grade(run)
    assert lost(results) == {
        "comparison_three_runs", "comparison_epochs",
        "comparison_trained_at_rate", "comparison_printed_accuracy",
    }  # fmt: skip
    assert "no run for 0.1" in results["comparison_three_runs"].message


def rename_run(run: SubmissionRun, old: str, new: str) -> SubmissionRun:
    """Rename a comparison run's folder, in the workdir and in the trace alike."""
    folder = only_folder(run, old)
    folder.rename(folder.with_name(folder.name.replace(old, new)))

    def rename_log_dir(event: dict) -> dict:
        for callback in event.get("callbacks", []):
            for key in ("log_dir", "log_dir_relative"):
                callback[key] = callback[key].replace(f"/{old}_", f"/{new}_")
        return event

    return edit_events(run, "comparison", rename_log_dir)


def test_rate_in_other_spellings(run: SubmissionRun) -> None:
    for old, new in (("lr_0.001", "lr_1e-3"), ("lr_0.01", "learning_rate_0_01")):
        run = rename_run(run, old, new)
    assert lost(grade(run)) == set()


def test_renamed_folder_is_not_the_traced_run(run: SubmissionRun) -> None:
    folder = only_folder(run, "lr_0.01")
    folder.rename(folder.with_name(folder.name.replace("lr_0.01", "lr_1e-2")))
    results = grade(run)
    assert "comparison_three_runs" in lost(results)
    assert "not the log directory of a TensorBoard callback" in (
        results["comparison_three_runs"].message
    )


def test_accuracy_not_printed(run: SubmissionRun) -> None:
    record = dataclasses.replace(run.groups["comparison"], stdout="training done\n")
    results = grade(replace_group(run, record))
    assert lost(results) == {"comparison_printed_accuracy"}
    assert "training done" in results["comparison_printed_accuracy"].message


def final_accuracies(run: SubmissionRun) -> dict[str, float]:
    """Return the last logged validation accuracy of each comparison run."""
    events = read_events(run.workdir)
    finals = {}
    for rate in ("0.001", "0.01", "0.1"):
        folder = only_folder(run, "lr_" + rate).relative_to(run.workdir).as_posix()
        finals[rate] = events.scalars(folder + "/validation", "epoch_accuracy")[-1][1]
    return finals


def with_comparison_output(run: SubmissionRun, lines: list[str]) -> SubmissionRun:
    record = dataclasses.replace(run.groups["comparison"], stdout="\n".join(lines))
    return replace_group(run, record)


def test_accuracy_printed_as_percent(run: SubmissionRun) -> None:
    lines = [
        f"rate {rate}: {final * 100:.1f}%"
        for rate, final in final_accuracies(run).items()
    ]
    assert lost(grade(with_comparison_output(run, lines))) == set()


@pytest.mark.parametrize("form", ["{:.0%}", "{:.1%}", "{:.4f}", "{:.2f} %"])
def test_accuracy_print_forms(run: SubmissionRun, form: str) -> None:
    lines = []
    for rate, final in final_accuracies(run).items():
        printed = form.format(final * 100 if form.endswith(" %") else final)
        lines.append(f"rate {rate}: {printed}")
    assert lost(grade(with_comparison_output(run, lines))) == set()


def test_one_decimal_not_enough(run: SubmissionRun) -> None:
    finals = final_accuracies(run)
    lines = [f"rate {rate}: {final:.1f}" for rate, final in finals.items()]
    results = grade(with_comparison_output(run, lines))
    assert lost(results) == {"comparison_printed_accuracy"}
    assert "at least two decimals" in results["comparison_printed_accuracy"].message


@pytest.mark.parametrize("first", [0, 50, 75])
def test_value_range_printed_not_accuracy(run: SubmissionRun, first: int) -> None:
    lines = [" ".join(f"{hundredth / 100:.2f}" for hundredth in range(first, 101))]
    results = grade(with_comparison_output(run, lines))
    assert lost(results) == {"comparison_printed_accuracy"}
    assert "no accuracy in particular" in results["comparison_printed_accuracy"].message


def test_whole_history_printed_counts(run: SubmissionRun) -> None:
    lines = [str(event["history"]) for event in fit_ends(run)]
    assert lost(grade(with_comparison_output(run, lines))) == set()


def fit_ends(run: SubmissionRun) -> list[dict]:
    return [
        event
        for event in run.groups["comparison"].events
        if event.get("event") == "fit_end"
    ]


def test_whole_numbers_not_accuracy(run: SubmissionRun) -> None:
    output = "lr=0 epochs=1 runs=1 done 0\n"
    record = dataclasses.replace(run.groups["comparison"], stdout=output)
    assert lost(grade(replace_group(run, record))) == {"comparison_printed_accuracy"}


def test_two_runs_in_one_folder(run: SubmissionRun) -> None:
    source = only_folder(run, "lr_0.01") / "train"
    target = only_folder(run, "lr_0.001") / "train"
    for event_file in source.iterdir():
        shutil.copy(event_file, target / ("copy." + event_file.name))
    results = grade(run)
    assert "runs_distinct_folders" in lost(results)
    assert "steps written twice" in results["runs_distinct_folders"].message


def test_event_files_outside_logs(run: SubmissionRun) -> None:
    (run.workdir / "logs" / "custom_metrics_test").rename(run.workdir / "custom")
    results = grade(run)
    assert lost(results) == {"runs_under_one_root"}
    assert "custom" in results["runs_under_one_root"].message


def test_step_error_after_logging(run: SubmissionRun) -> None:
    error = {"type": "SystemExit", "message": "0", "frames": []}

    def exit_after_fit(event: dict) -> dict:
        if event.get("step") == "basic_test" and event["event"] == "step_end":
            event.update(status="error", error=error)
        return event

    results = grade(edit_events(run, "callback", exit_after_fit))
    assert lost(results) == {
        "basic_run_curves",
        "basic_run_histograms",
        "basic_run_model_description",
    }
    assert "sys.exit()" in results["basic_run_curves"].message


def test_comparison_timed_out(run: SubmissionRun) -> None:
    for folder in (run.workdir / "logs").glob("lr_*"):
        shutil.rmtree(folder)
    record = run.groups["comparison"]
    started = [
        event
        for event in record.events
        if event.get("step") != ""
        and not (
            event.get("step") == "compare_learning_rates"
            and event["event"] != "step_start"
        )
    ]
    record = dataclasses.replace(
        record, status="timed_out", exit_code=-9, events=tuple(started), stdout=""
    )
    results = grade(replace_group(run, record))
    assert lost(results) == {
        "comparison_three_runs", "comparison_epochs",
        "comparison_trained_at_rate", "comparison_printed_accuracy",
    }  # fmt: skip
    assert "time limit" in results["comparison_epochs"].message


def test_zero_division_in_probe(run: SubmissionRun) -> None:
    error = {
        "type": "ZeroDivisionError",
        "message": "float division by zero",
        "frames": [
            {"line": 80, "function": "on_epoch_end", "code": "ratio = loss / val_loss"}
        ],
    }

    def fail_epoch_one(event: dict) -> dict:
        if event.get("probe") == "custom_epoch" and event["epoch"] == 1:
            event["error"] = error
        return event

    results = grade(edit_events(run, "custom_metrics", fail_epoch_one))
    message = results["loss_ratio_zero_val_loss"].message
    assert lost(results) == {"loss_ratio_zero_val_loss"}
    assert "ZeroDivisionError" in message
    assert "line 80" in message
    assert "Guard the division" in message


def test_wrong_callback_settings(run: SubmissionRun) -> None:
    def histograms_off(event: dict) -> dict:
        if event.get("probe") == "callback":
            event["returned"] = {**event["returned"], "histogram_freq": 0}
        return event

    results = grade(edit_events(run, "callback", histograms_off))
    assert lost(results) == {"callback_settings"}
    assert "histogram_freq=0" in results["callback_settings"].message


def test_timestamp_before_call(run: SubmissionRun) -> None:
    def late_call(event: dict) -> dict:
        if event.get("probe") == "callback":
            event["before"] = event["after"] = "20991231-235959"
        return event

    results = grade(edit_events(run, "callback", late_call))
    assert lost(results) == {"log_dir_timestamp_current"}


def test_get_value_hint(run: SubmissionRun) -> None:
    error = {
        "type": "AttributeError",
        "message": "module 'keras.backend' has no attribute 'get_value'",
        "frames": [],
    }

    def crash_task(event: dict) -> dict:
        if event.get("step") == "custom_metrics_test" and event["event"] == "step_end":
            event.update(status="error", error=error)
        return event

    shutil.rmtree(run.workdir / "logs" / "custom_metrics_test")
    results = grade(edit_events(run, "custom_metrics", crash_task))
    assert "keras.ops.convert_to_numpy" in results["learning_rate_logged"].message


def test_grader_fault_is_error(run: SubmissionRun) -> None:
    broken = dataclasses.replace(run, steps={})
    results = grade(broken)
    assert results["callback_type"].status == "error"
    assert "The grader's check itself failed" in results["callback_type"].message
    assert results["reflection_1"].status == "passed"


def test_histogram_tags_without_layer(run: SubmissionRun) -> None:
    events = read_events(run.workdir)
    # Keras 3.12 names histograms after the variable only, so layers share tags.
    tags = events.frame["tag"].str.replace(
        r"^.*/(kernel|bias)/histogram$", r"\1/histogram", regex=True
    )
    renamed = dataclasses.replace(events, frame=events.frame.assign(tag=tags))
    assert "kernel/histogram" in set(renamed.frame["tag"])
    assert lost(grade(run, renamed)) == set()


def test_training_at_import_named(run: SubmissionRun) -> None:
    record = run.groups["callback"]
    fit = {"event": "fit_start", "step": "import", "time": 0.0, "epochs": 5}
    events = (record.events[0], fit, *record.events[1:])
    results = grade(replace_group(run, dataclasses.replace(record, events=events)))
    assert "basic_run_curves" in lost(results)
    assert "under if __name__" in results["basic_run_curves"].message
