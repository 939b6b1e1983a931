"""Save and load a whole grading run, so fast tests can check it without TensorFlow.

``tests/data/record_reference_run.py`` records the reference solution's run
with this module; the fast tests load it back as a SubmissionRun and its
working directory.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime
from pathlib import Path

from grader.runner import RunSettings, SubmissionRun, collect_steps
from grader.runner.sandbox import GroupRun

RECORDING = Path(__file__).parent / "data" / "reference_run"


def save_run(run: SubmissionRun, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(run.workdir, target / "workdir")
    record = {
        "started": run.started.isoformat(),
        "finished": run.finished.isoformat(),
        "seed": run.settings.seed,
        "probe_learning_rate": run.settings.probe_learning_rate,
        "time_limits_s": run.settings.time_limits_s,
        "groups": [dataclasses.asdict(group) for group in run.groups.values()],
    }
    (target / "run.json").write_text(json.dumps(record, indent=1), encoding="utf-8")


def load_run(source: Path, workdir: Path, submission: Path) -> SubmissionRun:
    """Return the recorded run with its working directory copied to ``workdir``."""
    record = json.loads((source / "run.json").read_text(encoding="utf-8"))
    shutil.copytree(source / "workdir", workdir, dirs_exist_ok=True)
    groups = {}
    for fields in record["groups"]:
        fields["events"] = tuple(fields["events"])
        groups[fields["group"]] = GroupRun(**fields)
    settings = RunSettings(
        data_path=Path("unused.npz"),
        time_limits_s=record["time_limits_s"],
        seed=record["seed"],
        probe_learning_rate=record["probe_learning_rate"],
    )
    return SubmissionRun(
        submission=submission,
        workdir=workdir,
        started=datetime.fromisoformat(record["started"]),
        finished=datetime.fromisoformat(record["finished"]),
        settings=settings,
        groups=groups,
        steps=collect_steps(groups),
    )


def replace_group(run: SubmissionRun, group: GroupRun) -> SubmissionRun:
    """Return ``run`` with one group's record replaced and its steps derived again."""
    groups = {**run.groups, group.group: group}
    return dataclasses.replace(run, groups=groups, steps=collect_steps(groups))
