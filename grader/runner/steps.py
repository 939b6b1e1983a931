"""Turn a task group's trace into one outcome per step of the student's work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from grader.runner.driver import GROUP_STEPS
from grader.runner.sandbox import GroupRun

StepStatus = Literal["ok", "error", "interrupted", "not_run"]
# Names of the task groups in the report.
GROUP_TITLES = {
    "callback": "Part 1 (the callback and basic_test)",
    "custom_metrics": "Part 2 (CustomMetricsCallback and custom_metrics_test)",
    "comparison": "Part 3 (compare_learning_rates)",
}


@dataclass(frozen=True)
class StepOutcome:
    """How one step went: a task of the student's, a probe, or the import.

    ``error`` is the driver's description of the exception (type, message,
    frames in the student's file); ``events`` are the trace events of the step.
    """

    step: str
    group: str
    status: StepStatus
    error: dict | None
    events: tuple[dict, ...]


def step_outcomes(run: GroupRun) -> dict[str, StepOutcome]:
    """Return the outcome of the import step and of each step of the group."""
    by_step: dict[str, list[dict]] = {}
    for event in run.events:
        by_step.setdefault(str(event.get("step", "")), []).append(event)

    outcomes = {}
    for step in ("import", *GROUP_STEPS[run.group]):
        events = tuple(by_step.get(step, ()))
        outcomes[step] = StepOutcome(step, run.group, *_status(events), events)
    return outcomes


def _status(events: tuple[dict, ...]) -> tuple[StepStatus, dict | None]:
    for event in events:
        if event.get("event") == "step_end":
            if event.get("status") == "ok":
                return "ok", None
            error = event.get("error")
            return "error", error if isinstance(error, dict) else {}
    if events:
        return "interrupted", None
    return "not_run", None
