"""Resource limits of a task group, how the watcher measures them, and how a trip reads.

Two layers hold a group to its limits. Before the student's code runs, the
driver sets Linux resource limits on its own process, which the kernel
enforces: address space, CPU time, file size, and, for a user other than
root, the number of processes. The grader's watch loop reads /proc to count the
processes of the group's session and to add up their CPU time, and kills the
session when either goes over. That also binds root, whom RLIMIT_NPROC does
not bind, and processes forked off, each of which gets its own RLIMIT_CPU.
Where /proc does not exist (macOS), only the resource limits and the wall
clock remain. Where the resource module does not exist (Windows), only the
wall clock remains.
"""

from __future__ import annotations

import os
import re
import signal
from dataclasses import asdict, dataclass
from pathlib import Path

GIB = 1024**3
MIB = 1024**2

# The reference solution's children peak at about 2.3 GB of address space
# (VmPeak, TensorFlow 2.21 on Linux x86_64) and 700 MB resident.
DEFAULT_MEMORY_BYTES = 4 * GIB
# The largest event file of the reference run is under 200 KB; a flood of
# output stops here too, because stdout and stderr are files.
DEFAULT_FILE_BYTES = 64 * MIB
# The exercise needs one process per group; TensorFlow's threads do not count.
DEFAULT_PROCESSES = 32
# Above the user's own count of processes and threads when the group starts.
# A user's RLIMIT_NPROC counts every thread the user runs, so this leaves room
# for TensorFlow's threads in all three groups and stops a fork bomb early.
NPROC_HEADROOM = 1024

LIMIT_NAMES = ("wall_time", "cpu_time", "memory", "file_size", "processes")


@dataclass(frozen=True)
class Limits:
    """Resource limits of one task group; CPU time is summed over its processes."""

    wall_s: float
    cpu_s: float
    memory_bytes: int = DEFAULT_MEMORY_BYTES
    file_bytes: int = DEFAULT_FILE_BYTES
    processes: int = DEFAULT_PROCESSES

    def to_json(self) -> dict:
        return asdict(self)

    def describe(self, name: str) -> str:
        """Return the limit as the report names it, with its value."""
        if name == "wall_time":
            return f"the {self.wall_s:g} s time limit"
        if name == "cpu_time":
            return f"the {self.cpu_s:g} s CPU time limit"
        if name == "memory":
            return f"the {format_bytes(self.memory_bytes)} memory limit"
        if name == "file_size":
            return f"the {format_bytes(self.file_bytes)} file size limit"
        if name == "processes":
            return f"the limit of {self.processes} processes"
        raise ValueError(f"unknown limit {name!r}")


def format_bytes(count: int) -> str:
    if count >= GIB and count % GIB == 0:
        return f"{count // GIB} GiB"
    if count >= MIB:
        return f"{count / MIB:g} MiB"
    return f"{count} bytes"


@dataclass(frozen=True)
class Usage:
    """Process count and CPU time of one session at one moment."""

    processes: int
    cpu_s: float


def process_ids() -> list[int]:
    """Return the ids of the machine's processes, or none where /proc does not exist."""
    try:
        return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return []


def stat_fields(pid: int) -> list[bytes] | None:
    """Return the fields of /proc/PID/stat after the command name, or None.

    The first is the state, the second the parent's id, the fourth the
    session. None means that the process ended while it was read.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    # The command name in parentheses may contain spaces, so split after it.
    return stat[stat.rfind(b")") + 2 :].split()


def read_sessions(sessions: set[int]) -> dict[int, Usage]:
    """Return the process count and CPU time of each session, read from /proc.

    CPU time counts the live processes and the children they have waited for.
    A session without live processes is missing from the result, and so is
    every session where /proc does not exist.
    """
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    counts: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for pid in process_ids():
        fields = stat_fields(pid)
        if fields is None or int(fields[3]) not in sessions:
            continue
        session = int(fields[3])
        counts[session] = counts.get(session, 0) + 1
        used = sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
        cpu[session] = cpu.get(session, 0.0) + used / ticks
    return {session: Usage(counts[session], cpu[session]) for session in counts}


def over_limit(usage: Usage, limits: Limits) -> str | None:
    if usage.processes > limits.processes:
        return "processes"
    if usage.cpu_s > limits.cpu_s:
        return "cpu_time"
    return None


# Exception lines that the student's code gets when the kernel enforces a
# limit. TensorFlow's C++ allocator reports a failed allocation as
# std::bad_alloc and aborts.
ERROR_PATTERNS = (
    ("memory", re.compile(r"^MemoryError\b|std::bad_alloc|\[Errno 12\]")),
    ("file_size", re.compile(r"\[Errno 27\]|File too large")),
    ("processes", re.compile(r"^BlockingIOError: \[Errno 11\]")),
)


def error_limit(error: str) -> str | None:
    """Return the limit that a "Type: message" exception line shows, or None."""
    for name, pattern in ERROR_PATTERNS:
        if pattern.search(error):
            return name
    return None


def tripped_limit(
    killed_for: str | None,
    timed_out: bool,
    exit_code: int | None,
    errors: list[str],
    stderr: str,
) -> str | None:
    """Return the limit a finished group ran into, or None.

    ``errors`` are the group's step errors as "Type: message" lines.
    """
    if killed_for is not None:
        return killed_for
    if timed_out:
        return "wall_time"
    if exit_code == -signal.SIGXCPU:
        return "cpu_time"
    for error in errors:
        name = error_limit(error)
        if name is not None:
            return name
    if exit_code is not None and exit_code < 0 and "std::bad_alloc" in stderr:
        return "memory"
    return None
