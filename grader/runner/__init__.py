"""Run a submission's task groups in child processes and collect what they did."""

from __future__ import annotations

import random
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader.runner.limits import (
    DEFAULT_FILE_BYTES,
    DEFAULT_MEMORY_BYTES,
    DEFAULT_PROCESSES,
    Limits,
)
from grader.runner.sandbox import GroupLaunch, GroupRun, TraceListener, run_groups
from grader.runner.steps import StepOutcome, step_outcomes

# Wall-clock limits in seconds. The reference solution needs about 10, 12 and
# 25 s on a 2-core x86_64 machine, TensorFlow's import included.
DEFAULT_TIME_LIMITS_S = {
    "callback": 180.0,
    "custom_metrics": 240.0,
    "comparison": 600.0,
}
PROBE_LOG_DIR = "probes/custom_metrics"
# Trains 60 of the 75 epochs; the other groups run at a lower priority.
LONGEST_GROUP = "comparison"


@dataclass(frozen=True)
class RunSettings:
    data_path: Path
    time_limits_s: dict[str, float] = field(
        default_factory=lambda: dict(DEFAULT_TIME_LIMITS_S)
    )
    # CPU seconds of each group's processes together; a group missing here
    # may use as many CPU seconds as its wall-clock limit.
    cpu_limits_s: dict[str, float] = field(default_factory=dict)
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    file_bytes: int = DEFAULT_FILE_BYTES
    processes: int = DEFAULT_PROCESSES
    seed: int = 1234
    # Chosen per grading run, and at least twice the exercise's 0.001, so that a
    # callback that logs a fixed 0.001 instead of reading the optimizer fails.
    probe_learning_rate: float = field(
        default_factory=lambda: round(random.uniform(0.002, 0.009), 6)
    )

    def limits(self, group: str) -> Limits:
        wall = self.time_limits_s[group]
        return Limits(
            wall_s=wall,
            cpu_s=self.cpu_limits_s.get(group, wall),
            memory_bytes=self.memory_bytes,
            file_bytes=self.file_bytes,
            processes=self.processes,
        )


@dataclass(frozen=True)
class SubmissionRun:
    """Everything the checks need to know about one run of a submission."""

    submission: Path
    workdir: Path
    started: datetime
    finished: datetime
    settings: RunSettings
    groups: dict[str, GroupRun]
    steps: dict[str, StepOutcome]

    @property
    def probe_log_dir(self) -> str:
        return PROBE_LOG_DIR


def group_arguments(submission: Path, settings: RunSettings) -> tuple[str, ...]:
    return (
        "--submission", str(submission),
        "--data", str(settings.data_path.resolve()),
        "--seed", str(settings.seed),
        "--probe-learning-rate", repr(settings.probe_learning_rate),
        "--probe-log-dir", PROBE_LOG_DIR,
    )  # fmt: skip


def run_submission(
    submission: Path,
    workdir: Path,
    settings: RunSettings,
    listener: TraceListener | None = None,
) -> SubmissionRun:
    """Run every task group of ``submission`` with ``workdir`` as working directory."""
    arguments = group_arguments(submission.resolve(), settings)
    launches = [
        GroupLaunch(
            group, arguments, settings.limits(group), 0 if group == LONGEST_GROUP else 5
        )
        for group in settings.time_limits_s
    ]
    scratch = Path(tempfile.mkdtemp(prefix="tensorboard-grader-output-"))
    started = datetime.now()
    try:
        groups = run_groups(launches, workdir, scratch, listener)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    finished = datetime.now()

    return SubmissionRun(
        submission, workdir, started, finished, settings, groups, collect_steps(groups)
    )


def collect_steps(groups: dict[str, GroupRun]) -> dict[str, StepOutcome]:
    """Return every group's step outcomes; each import step is keyed import:<group>."""
    steps: dict[str, StepOutcome] = {}
    for run in groups.values():
        for name, outcome in step_outcomes(run).items():
            steps[name if name != "import" else f"import:{run.group}"] = outcome
    return steps
