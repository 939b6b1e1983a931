"""The progress display while the submission trains: task, run and epoch."""

from __future__ import annotations

from pathlib import PurePath

from rich.console import Console
from rich.markup import escape
from rich.status import Status

STEP_LABELS = {
    "import": "importing",
    "probe_callback": "testing create_tensorboard_callback",
    "basic_test": "Task 1.2",
    "custom_metrics_test": "Task 2.2",
    "probe_custom_metrics": "testing CustomMetricsCallback",
    "compare_learning_rates": "Task 3.1",
}


class Progress:
    """Show one status line on a terminal, or one line per milestone elsewhere."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._lines: dict[str, str] = {}
        self._epochs: dict[str, int] = {}
        self._runs: dict[str, str] = {}
        self._status: Status | None = None

    def __enter__(self) -> Progress:
        if self._console.is_terminal:
            self._status = self._console.status("Starting the task groups ...")
            self._status.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._status is not None:
            self._status.stop()

    def on_event(self, group: str, event: dict) -> None:
        kind = event.get("event")
        label = STEP_LABELS.get(str(event.get("step")), str(event.get("step")))
        if kind == "fit_start":
            self._runs[group] = run_name(event)
            self._epochs[group] = int(event.get("epochs") or 0)
            self._show(group, f"{label}, run {self._runs[group]}", milestone=True)
        elif kind == "epoch_end":
            epoch = int(event.get("epoch", 0)) + 1
            self._show(
                group,
                f"{label}, run {self._runs.get(group, '?')}, "
                f"epoch {epoch}/{self._epochs.get(group, '?')}",
            )
        elif kind == "step_start":
            self._show(group, label, milestone=True)
        elif kind == "step_end" and event.get("status") != "ok":
            self._show(group, f"{label} raised an error", milestone=True)
        elif kind == "done":
            self._show(group, "done", milestone=True)

    def _show(self, group: str, text: str, milestone: bool = False) -> None:
        self._lines[group] = text
        if self._status is not None:
            line = " | ".join(
                f"{name}: {escape(value)}"
                for name, value in sorted(self._lines.items())
            )
            self._status.update(line)
        elif milestone:
            self._console.print(f"[{group}] {text}", markup=False, highlight=False)


def run_name(event: dict) -> str:
    for callback in event.get("callbacks") or []:
        if isinstance(callback, dict) and callback.get("is_tensorboard"):
            return PurePath(str(callback.get("log_dir", "?"))).name
    return "without a TensorBoard callback"
