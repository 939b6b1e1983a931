"""Benchmark: a grade of the reference solution against the serial floor.

For each round it times two whole commands, one after the other:

- ``make grade SUBMISSION=fixtures/submissions/reference``;
- the serial floor, ``benchmarks/serial_floor.py``: one process that imports
  TensorFlow and trains the reference's 75 epochs on the same subset with the
  same callbacks, with no grader around it.

It prints the median wall times and their ratio. It also prints the median time
from the end of training to the finished report (the grader's ``--timings``).
Last comes the peak memory of the grade's whole process tree, sampled every
50 ms from /proc (Linux only). That peak is the sum of each process's
proportional set size (PSS), which counts a page shared by the three TensorFlow
children once in all. The sum of resident set sizes (RSS), which counts
TensorFlow's shared library once per child, is printed beside it.

Usage: ``make bench`` or ``.venv/bin/python -m benchmarks.grade_speed [--rounds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REFERENCE = PROJECT_ROOT / "fixtures" / "submissions" / "reference"
SUBSET = PROJECT_ROOT / "fixtures" / "mnist" / "mnist_subset.npz"
SAMPLE_INTERVAL_S = 0.05


def tree_memory_bytes(root: int) -> tuple[int, int]:
    """Return the summed PSS and RSS of ``root`` and all its descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            parents[int(entry.name)] = int(fields[1])

    tree = {root}
    changed = True
    while changed:
        children = {pid for pid, parent in parents.items() if parent in tree}
        changed = not children <= tree
        tree |= children

    pss = rss = 0
    for pid in tree:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:  # the process has ended
            continue
        fields = dict(line.split(":", 1) for line in rollup.splitlines()[1:])
        pss += int(fields.get("Pss", "0 kB").split()[0]) * 1024
        rss += int(fields.get("Rss", "0 kB").split()[0]) * 1024
    return pss, rss


def run_measured(command: list[str], cwd: Path) -> tuple[float, int, int]:
    """Run ``command``; return its wall time and its tree's peak PSS and RSS."""
    peak_pss = peak_rss = 0
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_pss, peak_rss
        while not done.is_set():
            pss, rss = tree_memory_bytes(process.pid)
            peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
            done.wait(SAMPLE_INTERVAL_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    return elapsed, peak_pss, peak_rss


def grade_once(scratch: Path) -> tuple[float, int, int, float]:
    timings = scratch / "timings.json"
    flags = f"--timings {timings} --report-dir {scratch / 'report'} --color never"
    command = ["make", "--no-print-directory", "grade",
               f"SUBMISSION={REFERENCE}", f"GRADE_FLAGS={flags}"]  # fmt: skip
    elapsed, peak_pss, peak_rss = run_measured(command, PROJECT_ROOT)
    result = json.loads((scratch / "report" / "results.json").read_text())
    if result["total"] != 100:
        raise SystemExit(f"The reference earned {result['total']}, not 100.")
    report_s = json.loads(timings.read_text())["report_s"]
    return elapsed, peak_pss, peak_rss, report_s


def floor_once(scratch: Path) -> float:
    workdir = scratch / "floor"
    workdir.mkdir()
    command = [sys.executable, str(PROJECT_ROOT / "benchmarks" / "serial_floor.py"),
               str(SUBSET), str(REFERENCE / "tensorboard_starter.py")]  # fmt: skip
    elapsed, _, _ = run_measured(command, workdir)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds (default: 5)")
    rounds = parser.parse_args().rounds

    grades, floors, reports, peaks, rss_peaks = [], [], [], [], []
    for round_number in range(1, rounds + 1):
        with tempfile.TemporaryDirectory() as scratch:
            grade_s, peak, rss_peak, report_s = grade_once(Path(scratch))
            floor_s = floor_once(Path(scratch))
        grades.append(grade_s)
        floors.append(floor_s)
        reports.append(report_s)
        peaks.append(peak)
        rss_peaks.append(rss_peak)
        print(
            f"round {round_number}: grade {grade_s:.1f} s, floor {floor_s:.1f} s, "
            f"report {report_s:.2f} s, peak PSS {peak / 2**20:.0f} MiB, "
            f"peak RSS sum {rss_peak / 2**20:.0f} MiB",
            flush=True,
        )

    grade_median = statistics.median(grades)
    floor_median = statistics.median(floors)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"make grade (reference), median of {rounds}: {grade_median:.1f} s")
    print(f"serial floor, median of {rounds}: {floor_median:.1f} s")
    print(f"ratio grade / floor: {grade_median / floor_median:.2f} (target <= 1.0)")
    print(f"report phase, median: {statistics.median(reports):.2f} s (target <= 1.5 s)")
    print(
        f"peak memory (PSS) of the process tree, median: "
        f"{statistics.median(peaks) / 2**20:.0f} MiB, max {max(peaks) / 2**20:.0f} "
        "MiB (target < 2 GB)"
    )
    print(
        "peak RSS sum, counting shared pages once per process, median: "
        f"{statistics.median(rss_peaks) / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
