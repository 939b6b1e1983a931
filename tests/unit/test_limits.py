"""Resource limits: how they read in the report and how a trip is recognized."""

from __future__ import annotations

import os
import signal

import pytest

from grader.runner.limits import (
    GIB,
    MIB,
    Limits,
    Usage,
    error_limit,
    format_bytes,
    over_limit,
    read_sessions,
    tripped_limit,
)

LIMITS = Limits(wall_s=600, cpu_s=300)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("wall_time", "the 600 s time limit"),
        ("cpu_time", "the 300 s CPU time limit"),
        ("memory", "the 4 GiB memory limit"),
        ("file_size", "the 64 MiB file size limit"),
        ("processes", "the limit of 32 processes"),
    ],
)
def test_limit_described(name: str, text: str) -> None:
    assert LIMITS.describe(name) == text


def test_unknown_limit_rejected() -> None:
    with pytest.raises(ValueError, match="unknown limit"):
        LIMITS.describe("disk")


def test_bytes_formatted() -> None:
    assert format_bytes(4 * GIB) == "4 GiB"
    assert format_bytes(1536 * MIB) == "1536 MiB"
    assert format_bytes(512) == "512 bytes"


def test_over_limit_order() -> None:
    assert over_limit(Usage(processes=33, cpu_s=0.0), LIMITS) == "processes"
    assert over_limit(Usage(processes=1, cpu_s=300.5), LIMITS) == "cpu_time"
    assert over_limit(Usage(processes=32, cpu_s=300.0), LIMITS) is None


@pytest.mark.parametrize(
    ("error", "limit"),
    [
        ("MemoryError: ", "memory"),
        ("MemoryError: Unable to allocate 74.5 GiB", "memory"),
        ("OSError: [Errno 27] File too large", "file_size"),
        ("BlockingIOError: [Errno 11] Resource temporarily unavailable", "processes"),
        ("ValueError: MemoryError is not a float", None),
        ("ZeroDivisionError: division by zero", None),
    ],
)
def test_error_limit(error: str, limit: str | None) -> None:
    assert error_limit(error) == limit


def test_tripped_limit_sources() -> None:
    assert tripped_limit("processes", False, -9, [], "") == "processes"
    assert tripped_limit(None, True, -9, [], "") == "wall_time"
    assert tripped_limit(None, False, -signal.SIGXCPU, [], "") == "cpu_time"
    assert tripped_limit(None, False, 0, ["MemoryError: "], "") == "memory"
    bad_alloc = "terminate called after throwing an instance of 'std::bad_alloc'"
    assert tripped_limit(None, False, -signal.SIGABRT, [], bad_alloc) == "memory"
    assert tripped_limit(None, False, 1, ["KeyError: 'loss'"], "") is None


def test_own_session_read() -> None:
    session = os.getsid(0)
    usage = read_sessions({session})[session]
    assert usage.processes >= 1
    assert usage.cpu_s > 0
    assert read_sessions({2**22 + 7}) == {}
