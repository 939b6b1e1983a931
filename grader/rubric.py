"""The rubric: every check the grader scores, with its points.

This table is the one place where points are set. Each check is a pytest test
under grader/checks/ marked with ``@pytest.mark.check("<id>")``. A unit test
keeps the table and the tests one to one and the points summing to 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Part = Literal["callback", "custom_metrics", "comparison", "layout", "reflections"]

PART_TITLES: dict[Part, str] = {
    "callback": "Part 1: TensorBoard callback",
    "custom_metrics": "Part 2: custom metric logging",
    "comparison": "Part 3: experiment comparison",
    "layout": "Log folders",
    "reflections": "Reflection questions",
}


@dataclass(frozen=True)
class RubricItem:
    id: str
    part: Part
    points: int
    title: str


RUBRIC: tuple[RubricItem, ...] = (
    RubricItem("callback_type", "callback", 3,
               "create_tensorboard_callback returns a keras.callbacks.TensorBoard"),
    RubricItem("callback_settings", "callback", 4,
               "histogram_freq=1, write_graph=True, update_freq='epoch'"),
    RubricItem("log_dir_format", "callback", 5,
               "log directory is logs/<name>_<YYYYMMDD-HHMMSS>"),
    RubricItem("log_dir_timestamp_current", "callback", 4,
               "the timestamp is the time of the call, not a fixed string"),
    RubricItem("log_dir_unique", "callback", 4,
               "two calls a second apart get different directories"),
    RubricItem("basic_run_curves", "callback", 5,
               "Task 1.2 logs train and validation loss and accuracy for 5 epochs"),
    RubricItem("basic_run_histograms", "callback", 3,
               "Task 1.2 logs a weight histogram every epoch"),
    RubricItem("basic_run_model_description", "callback", 2,
               "Task 1.2 logs the model description (write_graph)"),
    RubricItem("custom_callback_class", "custom_metrics", 2,
               "CustomMetricsCallback is a working keras.callbacks.Callback"),
    RubricItem("custom_run_curves", "custom_metrics", 3,
               "Task 2.2 logs train and validation curves for 10 epochs"),
    RubricItem("learning_rate_logged", "custom_metrics", 4,
               "learning_rate is logged once per epoch"),
    RubricItem("learning_rate_value", "custom_metrics", 5,
               "learning_rate equals the optimizer's learning rate"),
    RubricItem("loss_ratio_logged", "custom_metrics", 4,
               "loss_ratio is logged once per epoch"),
    RubricItem("loss_ratio_value", "custom_metrics", 6,
               "loss_ratio equals train loss / validation loss"),
    RubricItem("loss_ratio_zero_val_loss", "custom_metrics", 3,
               "val_loss of 0 gives loss_ratio 0 instead of an error"),
    RubricItem("loss_ratio_missing_val_loss", "custom_metrics", 3,
               "a missing val_loss counts as 1"),
    RubricItem("comparison_three_runs", "comparison", 6,
               "compare_learning_rates logs runs for 0.001, 0.01 and 0.1"),
    RubricItem("comparison_epochs", "comparison", 4,
               "each comparison run trains 20 epochs with validation"),
    RubricItem("comparison_trained_at_rate", "comparison", 5,
               "each comparison run really trains at its learning rate"),
    RubricItem("comparison_printed_accuracy", "comparison", 5,
               "each run's final validation accuracy is printed"),
    RubricItem("runs_under_one_root", "layout", 4,
               "every run sits under one logs/ folder"),
    RubricItem("runs_distinct_folders", "layout", 4,
               "no two runs write into the same folder"),
    RubricItem("reflection_1", "reflections", 3,
               "Q1: training curve at a too-high learning rate"),
    RubricItem("reflection_2", "reflections", 3,
               "Q2: loss ratio and overfitting"),
    RubricItem("reflection_3", "reflections", 3,
               "Q3: unique timestamps in log directories"),
    RubricItem("reflection_4", "reflections", 3,
               "Q4: healthy weights and dead neurons"),
)  # fmt: skip

MAXIMUM_POINTS = 100
RUBRIC_BY_ID: dict[str, RubricItem] = {item.id: item for item in RUBRIC}
