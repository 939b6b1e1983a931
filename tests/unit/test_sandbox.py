"""Pieces of the child-process runner, tested without TensorFlow."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from grader.runner import sandbox
from grader.runner.sandbox import GroupRun
from grader.runner.steps import step_outcomes


def test_short_output_whole(tmp_path: Path) -> None:
    path = tmp_path / "stdout"
    path.write_bytes(b"accuracy 0.93\n")
    assert sandbox.read_capped(path) == "accuracy 0.93\n"


def test_long_output_capped(tmp_path: Path) -> None:
    path = tmp_path / "stdout"
    path.write_bytes(b"H" * 20_000 + b"M" * 50_000 + b"T" * 20_000)
    text = sandbox.read_capped(path)
    assert text.startswith("H" * sandbox.OUTPUT_HEAD_BYTES)
    assert text.endswith("T" * sandbox.OUTPUT_TAIL_BYTES)
    assert "[... 58000 bytes of output omitted ...]" in text


def test_invalid_utf8_output(tmp_path: Path) -> None:
    path = tmp_path / "stdout"
    path.write_bytes(b"loss \xff\xfe 0.5")
    assert sandbox.read_capped(path) == "loss \ufffd\ufffd 0.5"


def test_environment_drops_secrets(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "secret")
    monkeypatch.setenv("PATH", "/usr/bin")
    environment = sandbox.child_environment(tmp_path, "0123:callback")
    assert "GITHUB_TOKEN" not in environment
    assert environment["PATH"] == "/usr/bin"
    assert environment["HOME"] == str(tmp_path)


def group_run(events: list[dict], status: str = "crashed") -> GroupRun:
    return GroupRun("callback", status, 1, 1.0, 60.0, tuple(events), "", "")


def test_steps_after_import_error() -> None:
    events = [
        {"event": "step_start", "step": "import"},
        {"event": "step_end", "step": "import", "status": "error",
         "error": {"type": "SyntaxError"}},
    ]  # fmt: skip
    outcomes = step_outcomes(group_run(events))
    assert outcomes["import"].status == "error"
    assert outcomes["probe_callback"].status == "not_run"
    assert outcomes["basic_test"].status == "not_run"


def test_step_interrupted() -> None:
    events = [
        {"event": "step_start", "step": "import"},
        {"event": "step_end", "step": "import", "status": "ok"},
        {"event": "step_start", "step": "probe_callback"},
    ]
    outcomes = step_outcomes(group_run(events, status="timed_out"))
    assert outcomes["import"].status == "ok"
    assert outcomes["probe_callback"].status == "interrupted"


ORPHAN_SCRIPT = """
import os, sys, time
from grader.runner import sandbox
assert sandbox.become_subreaper()
child = os.fork()
if child == 0:
    if os.fork() == 0:
        os.setsid()
        time.sleep(60)
        os._exit(0)
    os._exit(0)
os.waitpid(child, 0)
time.sleep(0.5)
orphans = [pid for pid in sandbox.child_pids()]
killed = sandbox.kill_adopted(keep=set())
print(len(orphans), killed, len(sandbox.child_pids()))
"""


def test_orphans_adopted_and_killed() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", ORPHAN_SCRIPT],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    orphans, killed, left = completed.stdout.split()
    assert orphans == "1"
    assert killed == "1"
    assert left == "0"
