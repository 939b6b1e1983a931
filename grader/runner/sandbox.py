"""Start the student's task groups as child processes and watch their limits.

Each group runs ``driver.py`` in its own process session inside the shared
working directory, so that a group that overruns a limit is killed together
with every process it started. The groups run side by side. The kernel's
resource limits are set by the child itself (guard.py); the watch loop here
holds the wall clock and, from /proc, the session's process count and CPU
time (limits.py).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from grader.result import TaskStatus
from grader.runner import trace
from grader.runner.limits import (
    NPROC_HEADROOM,
    Limits,
    over_limit,
    process_ids,
    read_sessions,
    stat_fields,
    tripped_limit,
)

logger = logging.getLogger(__name__)

DRIVER = Path(__file__).with_name("driver.py")
OUTPUT_HEAD_BYTES = 16_000
OUTPUT_TAIL_BYTES = 16_000
POLL_INTERVAL_S = 0.1
# How often the watch loop reads /proc; one read takes a few milliseconds.
USAGE_INTERVAL_S = 0.5
PR_SET_CHILD_SUBREAPER = 36  # from <linux/prctl.h>
# Rounds of killing adopted processes, for those that fork while being killed.
ADOPTED_ROUNDS = 20
# Variables the child keeps from the grader's environment; the rest (CI
# tokens included) are dropped.
INHERITED_VARIABLES = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")

# Set in every child's environment to "<token>:<group>", with a token new for
# each grading run, so that processes which left their group's session can
# still be found and killed when the group ends.
RUN_MARK = "TENSORBOARD_GRADER_RUN"

TraceListener = Callable[[str, dict], None]


class StopSignal:
    """A SIGTERM handler that never interrupts the start of a task group.

    While run_groups watches the groups, the handler only records the request,
    and the watch loop kills every group and raises SystemExit at a point
    where no start is half done. At any other time no group is running, so the
    handler raises SystemExit at once.
    """

    def __init__(self) -> None:
        self.requested = threading.Event()
        self.watching = False

    def handle(self, signum: int, frame: object) -> None:
        self.requested.set()
        if not self.watching:
            raise SystemExit(128 + signum)

    def raise_if_requested(self) -> None:
        if self.requested.is_set():
            raise SystemExit(128 + signal.SIGTERM)


STOP = StopSignal()


@dataclass(frozen=True)
class GroupRun:
    """The outcome of one task group's child process, with its trace and output."""

    group: str
    status: TaskStatus
    exit_code: int | None
    duration_s: float
    time_limit_s: float
    events: tuple[dict, ...]
    stdout: str
    stderr: str
    # The limit the group ran into (a name from limits.LIMIT_NAMES), if any,
    # and how it reads in the report: "the 4 GiB memory limit".
    limit: str | None = None
    limit_description: str = ""
    # How the child was fenced in: the network's state and Landlock's ABI
    # (0 where the kernel has none), from the driver's "fenced" event.
    fence: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GroupLaunch:
    group: str
    arguments: tuple[str, ...]
    limits: Limits
    # Added to the child's nice value, so that a short group yields the CPU
    # to the longest one, which sets the wall time of the whole grade.
    nice: int = 0

    @property
    def time_limit_s(self) -> float:
        return self.limits.wall_s


class _Child:
    def __init__(
        self,
        launch: GroupLaunch,
        process: subprocess.Popen,
        trace_reader: threading.Thread,
        output_dir: Path,
    ) -> None:
        self.launch = launch
        self.process = process
        self.trace_reader = trace_reader
        self.output_dir = output_dir
        self.started = time.monotonic()
        self.events: list[dict] = []
        self.timed_out = False
        self.killed_for: str | None = None


def child_environment(home: Path, mark: str) -> dict[str, str]:
    environment = {
        name: os.environ[name] for name in INHERITED_VARIABLES if name in os.environ
    }
    environment[RUN_MARK] = mark
    environment.update(
        HOME=str(home),
        TMPDIR=str(home / "tmp"),
        KERAS_HOME=str(home / ".keras"),
        MPLCONFIGDIR=str(home / ".matplotlib"),
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONHASHSEED="0",
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
        # One thread per child: three groups share the machine, and on a 2-core
        # x86_64 machine a grade took 21 s this way against 24 to 26 s with
        # TensorFlow's default thread pools.
        TF_NUM_INTRAOP_THREADS="1",
        TF_NUM_INTEROP_THREADS="1",
        OMP_NUM_THREADS="1",
    )
    return environment


def read_capped(path: Path) -> str:
    """Return a file's text, keeping its head and tail when it is long."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        if size <= OUTPUT_HEAD_BYTES + OUTPUT_TAIL_BYTES:
            data = stream.read()
            return data.decode("utf-8", errors="replace")
        head = stream.read(OUTPUT_HEAD_BYTES)
        stream.seek(size - OUTPUT_TAIL_BYTES)
        tail = stream.read()
    omitted = size - OUTPUT_HEAD_BYTES - OUTPUT_TAIL_BYTES
    return (
        head.decode("utf-8", errors="replace")
        + f"\n[... {omitted} bytes of output omitted ...]\n"
        + tail.decode("utf-8", errors="replace")
    )


def _read_trace(fd: int, group: str, inbox: queue.Queue) -> None:
    with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as stream:
        for event in trace.read_events(stream, group):
            inbox.put((group, event))


def _start(
    launch: GroupLaunch,
    workdir: Path,
    scratch: Path,
    inbox: queue.Queue,
    run_token: str,
) -> _Child:
    output_dir = scratch / launch.group
    home = output_dir / "home"
    (home / "tmp").mkdir(parents=True)
    read_fd, write_fd = os.pipe()
    limits = {**launch.limits.to_json(), "nproc_headroom": NPROC_HEADROOM}
    command = [
        sys.executable,
        "-I",  # no PYTHON* variables, no user site-packages, no script folder
        "-B",  # no __pycache__ next to the student's file
        "-u",  # unbuffered, so a killed group's last output is kept
        str(DRIVER),
        "--group", launch.group,
        "--trace-fd", str(write_fd),
        "--nice", str(launch.nice),
        "--limits", json.dumps(limits),
        *launch.arguments,
    ]  # fmt: skip
    with (
        (output_dir / "stdout").open("wb") as stdout,
        (output_dir / "stderr").open("wb") as stderr,
    ):
        process = subprocess.Popen(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            pass_fds=(write_fd,),
            start_new_session=True,
            env=child_environment(home, f"{run_token}:{launch.group}"),
        )
    os.close(write_fd)
    reader = threading.Thread(
        target=_read_trace, args=(read_fd, launch.group, inbox), daemon=True
    )
    reader.start()
    return _Child(launch, process, reader, output_dir)


def kill_leftovers(mark: str) -> list[int]:
    """Kill every process whose environment contains RUN_MARK=mark; return their ids.

    A process that called setsid() has left its group's session, so killing
    the session missed it. Reading /proc/PID/environ needs the same user or
    root; where /proc does not exist, nothing is found.
    """
    entry = f"{RUN_MARK}={mark}".encode()
    killed = []
    for pid in process_ids():
        if pid == os.getpid():
            continue
        try:
            environment = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if entry in environment.split(b"\0"):
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except OSError:
                pass
    return killed


def become_subreaper() -> bool:
    """Adopt the orphans of this process's descendants, on Linux; return if it worked.

    A process that a task starts and then leaves (double fork, setsid, a
    daemon) becomes the grader's child instead of init's, so kill_adopted
    finds it even when it has shed every other mark.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def child_pids() -> list[int]:
    parent = str(os.getpid()).encode()
    return [
        pid
        for pid in process_ids()
        if (fields := stat_fields(pid)) is not None and fields[1] == parent
    ]


def kill_adopted(keep: set[int]) -> int:
    """Kill and reap every child of the grader but ``keep``, the live groups.

    The children are processes that the grader adopted as subreaper. Only the
    pids killed here are reaped, so that each group's exit status stays for
    its own Popen.
    """
    killed = 0
    for _ in range(ADOPTED_ROUNDS):
        pids = [pid for pid in child_pids() if pid not in keep]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                killed += 1
            except (OSError, ChildProcessError):
                pass
    return killed


def _kill_adopted(children: Mapping[str, _Child], done: Mapping[str, object]) -> None:
    live = {child.process.pid for group, child in children.items() if group not in done}
    killed = kill_adopted(keep=live)
    if killed:
        logger.info("Killed %d processes that outlived their task group", killed)


def _kill_escaped(run_token: str, group: str) -> None:
    killed = kill_leftovers(f"{run_token}:{group}")
    if killed:
        logger.info("Killed %d processes that left group %s", len(killed), group)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _finish(child: _Child) -> GroupRun:
    exit_code = child.process.wait()
    finished = any(event.get("event") == "done" for event in child.events)
    if child.timed_out:
        status: TaskStatus = "timed_out"
    elif finished and exit_code == 0 and child.killed_for is None:
        status = "finished"
    else:
        status = "crashed"
    stderr = read_capped(child.output_dir / "stderr")
    limit = tripped_limit(
        child.killed_for, child.timed_out, exit_code, step_errors(child.events), stderr
    )
    return GroupRun(
        group=child.launch.group,
        status=status,
        exit_code=exit_code,
        duration_s=time.monotonic() - child.started,
        time_limit_s=child.launch.time_limit_s,
        events=tuple(child.events),
        stdout=read_capped(child.output_dir / "stdout"),
        stderr=stderr,
        limit=limit,
        limit_description=child.launch.limits.describe(limit) if limit else "",
        fence=fence_of(child.events),
    )


def fence_of(events: list[dict]) -> dict:
    """Return the driver's report of the fence, with only the expected fields."""
    for event in events:
        if event.get("event") == "fenced":
            abi = event.get("landlock_abi")
            return {
                "network": str(event.get("network", "")),
                "landlock_abi": abi if isinstance(abi, int) else 0,
            }
    return {}


def step_errors(events: list[dict]) -> list[str]:
    """Return each failed step's exception as a "Type: message" line."""
    errors = []
    for event in events:
        error = event.get("error") if event.get("event") == "step_end" else None
        if isinstance(error, dict):
            errors.append(f"{error.get('type', '')}: {error.get('message', '')}")
    return errors


def _watch_usage(children: Mapping[str, _Child], done: Mapping[str, GroupRun]) -> None:
    """Kill each group whose session runs too many processes or too much CPU."""
    live = {
        child.process.pid: child
        for group, child in children.items()
        if group not in done and child.killed_for is None
    }
    for session, usage in read_sessions(set(live)).items():
        child = live[session]
        exceeded = over_limit(usage, child.launch.limits)
        if exceeded is not None:
            logger.info("Group %s exceeded its %s limit", child.launch.group, exceeded)
            child.killed_for = exceeded
            _kill_group(child.process)


def run_groups(
    launches: list[GroupLaunch],
    workdir: Path,
    scratch: Path,
    listener: TraceListener | None = None,
) -> dict[str, GroupRun]:
    """Run every group at once; return when all have ended or been killed."""
    inbox: queue.Queue = queue.Queue()
    children: dict[str, _Child] = {}
    runs: dict[str, GroupRun] = {}
    STOP.watching = True
    usage_read = 0.0
    run_token = secrets.token_hex(8)
    adopting = become_subreaper()
    try:
        for launch in launches:
            children[launch.group] = _start(launch, workdir, scratch, inbox, run_token)
        while len(runs) < len(children):
            STOP.raise_if_requested()
            _deliver(inbox, children, listener)
            if time.monotonic() - usage_read >= USAGE_INTERVAL_S:
                usage_read = time.monotonic()
                _watch_usage(children, runs)
            for group, child in children.items():
                if group in runs:
                    continue
                elapsed = time.monotonic() - child.started
                if child.process.poll() is None and elapsed > child.launch.time_limit_s:
                    child.timed_out = True
                    _kill_group(child.process)
                if child.process.poll() is not None:
                    # Processes the student started may still hold the trace pipe.
                    _kill_group(child.process)
                    _kill_escaped(run_token, group)
                    if adopting:
                        _kill_adopted(children, runs)
                    child.trace_reader.join(timeout=5)
                    _deliver(inbox, children, listener)
                    runs[group] = _finish(child)
    finally:
        for child in children.values():
            if child.process.poll() is None:
                _kill_group(child.process)
                child.process.wait()
        for group in children:
            _kill_escaped(run_token, group)
        if adopting:
            _kill_adopted(children, {group: None for group in children})
        STOP.watching = False
    STOP.raise_if_requested()
    return runs


def _deliver(
    inbox: queue.Queue, children: Mapping[str, _Child], listener: TraceListener | None
) -> None:
    try:
        group, event = inbox.get(timeout=POLL_INTERVAL_S)
    except queue.Empty:
        return
    while True:
        children[group].events.append(event)
        if listener is not None:
            listener(group, event)
        try:
            group, event = inbox.get_nowait()
        except queue.Empty:
            return
