"""The fence around the student's code, run in a child interpreter of its own.

An audit hook cannot be removed once added, so each test starts
``python -I -c`` with a small script that loads guard.py, enters the fence
and prints what each attempt did as one JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.runner.guard import CPU_GRACE_S
from grader.runner.limits import NPROC_HEADROOM, Limits

GUARD = Path(__file__).resolve().parents[2] / "grader" / "runner" / "guard.py"
LIMITS = {**Limits(wall_s=30, cpu_s=30).to_json(), "nproc_headroom": NPROC_HEADROOM}

PRELUDE = """
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("guard", {guard!r})
guard = importlib.util.module_from_spec(spec)
spec.loader.exec_module(guard)
network = guard.enter({limits!r}, [os.getcwd(), {home!r}])
outcomes = {{"network": network}}

def attempt(name, action):
    try:
        action()
        outcomes[name] = "allowed"
    except Exception as error:
        outcomes[name] = f"{{type(error).__name__}}: {{error}}"
"""


def fenced(body: str, workdir: Path, home: Path) -> dict[str, str]:
    """Run ``body`` inside the fence with ``workdir`` as working directory."""
    script = PRELUDE.format(guard=str(GUARD), limits=LIMITS, home=str(home))
    script += textwrap.dedent(body) + "\nprint(json.dumps(outcomes))\n"
    completed = subprocess.run(
        [sys.executable, "-I", "-c", script],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        start_new_session=True,  # as the grader starts each task group
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.splitlines()[-1])


def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    workdir, home, outside = (tmp_path / name for name in ("work", "home", "out"))
    for folder in (workdir, home, outside):
        folder.mkdir()
    return workdir, home, outside


def test_writes_inside_allowed(tmp_path: Path) -> None:
    workdir, home, _ = folders(tmp_path)
    outcomes = fenced(
        f"""
        attempt("relative", lambda: open("logs.txt", "w").close())
        attempt("mkdir", lambda: os.makedirs("logs/run/train"))
        attempt("home", lambda: open({str(home / "keras.json")!r}, "w").close())
        attempt("read outside", lambda: open({str(GUARD)!r}).read())
        attempt("devnull", lambda: open(os.devnull, "w").close())
        """,
        workdir,
        home,
    )
    for name in ("relative", "mkdir", "home", "read outside", "devnull"):
        assert outcomes[name] == "allowed", (name, outcomes[name])


def test_writes_outside_rejected(tmp_path: Path) -> None:
    workdir, home, outside = folders(tmp_path)
    target = outside / "file.txt"
    target.write_text("kept")
    outcomes = fenced(
        f"""
        attempt("open", lambda: open({str(outside / "new.txt")!r}, "w"))
        attempt("append", lambda: open({str(target)!r}, "a"))
        attempt("os.open", lambda: os.open({str(target)!r}, os.O_WRONLY))
        attempt("parent", lambda: open("../out/new.txt", "x"))
        attempt("remove", lambda: os.remove({str(target)!r}))
        attempt("rename", lambda: os.rename({str(target)!r}, "stolen.txt"))
        attempt("chmod", lambda: os.chmod({str(target)!r}, 0o777))
        import sqlite3
        attempt("database", lambda: sqlite3.connect({str(outside / "x.db")!r}))
        attempt("memory database", lambda: sqlite3.connect(":memory:"))
        os.symlink({str(outside)!r}, "link")
        attempt("through link", lambda: open("link/new.txt", "w"))
        """,
        workdir,
        home,
    )
    rejected = ("open", "append", "os.open", "parent", "remove", "rename", "chmod")
    for name in (*rejected, "database"):
        assert outcomes[name].startswith("PermissionError: Writing outside"), name
    assert outcomes["memory database"] == "allowed"
    assert outcomes["through link"].startswith("PermissionError: Writing outside")
    assert target.read_text() == "kept"
    assert sorted(path.name for path in outside.iterdir()) == ["file.txt"]


def test_network_rejected(tmp_path: Path) -> None:
    workdir, home, _ = folders(tmp_path)
    outcomes = fenced(
        """
        import socket
        attempt("socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
        attempt("lookup", lambda: socket.getaddrinfo("localhost", 80))
        attempt("unix pair", lambda: socket.socketpair())
        """,
        workdir,
        home,
    )
    assert outcomes["socket"].startswith("PermissionError: Network access is off")
    assert outcomes["lookup"].startswith("PermissionError: Network access is off")
    assert outcomes["unix pair"] == "allowed"
    assert outcomes["network"]["network"] in (
        "namespace",
        "user namespace",
        "unavailable",
    )


def test_programs_and_signals_rejected(tmp_path: Path) -> None:
    workdir, home, _ = folders(tmp_path)
    outcomes = fenced(
        """
        import signal, subprocess
        attempt("subprocess", lambda: subprocess.run(["true"]))
        attempt("system", lambda: os.system("true"))
        attempt("parent", lambda: os.kill(os.getppid(), 0))
        attempt("everyone", lambda: os.kill(-1, 0))
        attempt("itself", lambda: os.kill(os.getpid(), 0))
        """,
        workdir,
        home,
    )
    assert outcomes["subprocess"].startswith("PermissionError: Starting other programs")
    assert outcomes["system"].startswith("PermissionError: Starting other programs")
    assert outcomes["parent"].startswith("PermissionError: Sending signals")
    assert outcomes["everyone"].startswith("PermissionError: Sending signals")
    assert outcomes["itself"] == "allowed"


def test_resource_limits_set(tmp_path: Path) -> None:
    workdir, home, _ = folders(tmp_path)
    outcomes = fenced(
        """
        import resource
        for name in ("RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_CPU", "RLIMIT_CORE"):
            outcomes[name] = list(resource.getrlimit(getattr(resource, name)))
        attempt("raise", lambda: resource.setrlimit(
            resource.RLIMIT_AS, (2 * outcomes["RLIMIT_AS"][0],) * 2))
        attempt("allocate", lambda: bytearray(8 * 1024**3))
        status = open("/proc/self/status").read().splitlines()
        outcomes["CapEff"] = [line for line in status if line.startswith("CapEff")][0]
        """,
        workdir,
        home,
    )
    memory, file_size = LIMITS["memory_bytes"], LIMITS["file_bytes"]
    assert outcomes["RLIMIT_AS"] == [memory, memory]
    assert outcomes["RLIMIT_FSIZE"] == [file_size, file_size]
    assert outcomes["RLIMIT_CPU"] == [30, 30 + CPU_GRACE_S]
    assert outcomes["RLIMIT_CORE"] == [0, 0]
    assert outcomes["allocate"].startswith("MemoryError")
    assert outcomes["raise"].startswith("ValueError")
    assert outcomes["CapEff"].split()[1] == "0" * 16


def test_native_calls_stopped_by_kernel(tmp_path: Path) -> None:
    workdir, home, outside = folders(tmp_path)
    target = str(outside / "native.txt").encode()
    outcomes = fenced(
        f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        flags = os.O_WRONLY | os.O_CREAT
        outcomes["outside"] = libc.open({target!r}, flags, 0o644)
        outcomes["inside"] = libc.open(b"native.txt", flags, 0o644)
        argv = (ctypes.c_char_p * 2)(b"/bin/true", None)
        outcomes["exec"] = libc.execv(b"/bin/true", argv)
        """,
        workdir,
        home,
    )
    if not outcomes["network"]["landlock_abi"]:
        pytest.skip("Landlock is not available on this kernel")
    assert outcomes["outside"] == -1
    assert outcomes["inside"] >= 0
    assert outcomes["exec"] == -1
    assert not (outside / "native.txt").exists()
