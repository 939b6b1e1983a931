"""Tests of Gradescope's results.json, autograder.zip and run_autograder.

The golden file is tests/unit/golden/gradescope.json. After an intended change
of the format, rewrite it with UPDATE_GOLDEN=1 and review the diff.
run_autograder is run here with a stand-in for the grader's Python, which
writes results.json with write_gradescope; tests/e2e/test_gradescope.py runs
it with the real grader.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.report.gradescope import render_gradescope, write_gradescope
from grader.rubric import RUBRIC, RubricItem
from gradescope.build_zip import build_zip
from tests.report_samples import ERROR_MESSAGE, SAMPLE_TOTAL, sample_result

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "gradescope.json"
RUN_AUTOGRADER = PROJECT_ROOT / "gradescope" / "run_autograder"
TOP_LEVEL_FIELDS = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "stdout_visibility",
    "tests",
}
TEST_FIELDS = {"name", "score", "max_score", "status", "output", "visibility"}
# A stand-in for the grader. It records how run_autograder called it, then
# writes the sample result where --gradescope-results points, unless
# WRITE_NOTHING is set.
STAND_IN_GRADER = """
import json, os, sys
from pathlib import Path
from grader.report.gradescope import write_gradescope
from tests.report_samples import sample_result

arguments = sys.argv[1:]
Path(os.environ["CALL_RECORD"]).write_text(
    json.dumps({"arguments": arguments, "cwd": os.getcwd()}), encoding="utf-8"
)
if not os.environ.get("WRITE_NOTHING"):
    results = Path(arguments[arguments.index("--gradescope-results") + 1])
    write_gradescope(sample_result(), results)
sys.exit(1)
"""


def rendered() -> dict:
    return render_gradescope(sample_result())


def find_test(check_id: str) -> dict:
    return next(
        test for test in rendered()["tests"] if test["name"].startswith(f"{check_id}: ")
    )


def test_matches_golden(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    write_gradescope(sample_result(), path)
    text = path.read_text(encoding="utf-8")
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_write_creates_folder(tmp_path: Path) -> None:
    path = tmp_path / "results" / "results.json"
    write_gradescope(sample_result(), path)
    assert json.loads(path.read_text(encoding="utf-8")) == rendered()


def test_top_level_fields() -> None:
    assert set(rendered()) == TOP_LEVEL_FIELDS


def test_score_is_total() -> None:
    assert rendered()["score"] == SAMPLE_TOTAL


def test_execution_time_whole_seconds() -> None:
    assert rendered()["execution_time"] == 41


def test_stdout_visible() -> None:
    assert rendered()["stdout_visibility"] == "visible"


@pytest.mark.parametrize(
    "field", ["output_format", "test_output_format", "test_name_format"]
)
def test_formats_plain_text(field: str) -> None:
    assert rendered()[field] == "text"


def test_summary_score_line() -> None:
    assert rendered()["output"].splitlines()[0] == f"Score: {SAMPLE_TOTAL}/100"


def test_summary_counts() -> None:
    assert (
        "23 of 26 checks passed, 2 failed, 1 could not be graded."
        in (rendered()["output"])
    )


def test_summary_crashed_task() -> None:
    assert "Task group 'comparison' crashed: ended early" in rendered()["output"]


def test_summary_grader_error() -> None:
    result = sample_result(grader_error="The grader failed: OSError: disk full")
    output = render_gradescope(result)["output"]
    assert output.endswith("The grader failed: OSError: disk full")


def test_extra_output_appended() -> None:
    output = render_gradescope(sample_result(), "Grader log")["output"]
    assert output.endswith("\n\nGrader log")


def test_one_test_per_check() -> None:
    assert len(rendered()["tests"]) == len(RUBRIC)


def test_max_scores_sum_to_100() -> None:
    assert sum(test["max_score"] for test in rendered()["tests"]) == 100


def test_scores_sum_to_total() -> None:
    assert sum(test["score"] for test in rendered()["tests"]) == SAMPLE_TOTAL


@pytest.mark.parametrize("item", RUBRIC, ids=lambda item: item.id)
def test_fields_per_check(item: RubricItem) -> None:
    assert set(find_test(item.id)) == TEST_FIELDS


@pytest.mark.parametrize("item", RUBRIC, ids=lambda item: item.id)
def test_name_prefixed_with_id(item: RubricItem) -> None:
    assert find_test(item.id)["name"] == f"{item.id}: {item.title}"


@pytest.mark.parametrize("item", RUBRIC, ids=lambda item: item.id)
def test_max_score_is_points(item: RubricItem) -> None:
    assert find_test(item.id)["max_score"] == item.points


@pytest.mark.parametrize("item", RUBRIC, ids=lambda item: item.id)
def test_visible(item: RubricItem) -> None:
    assert find_test(item.id)["visibility"] == "visible"


def test_passed_status() -> None:
    assert find_test("callback_type")["status"] == "passed"


def test_passed_score() -> None:
    assert find_test("callback_type")["score"] == 3


def test_failed_status() -> None:
    assert find_test("log_dir_format")["status"] == "failed"


def test_failed_score() -> None:
    assert find_test("log_dir_format")["score"] == 0


def test_failed_output_cleaned() -> None:
    output = find_test("log_dir_format")["output"]
    assert "Found: logs/basic | logs/basic\ufffd\n" in output


def test_error_is_failed() -> None:
    assert find_test("reflection_2")["status"] == "failed"


def test_error_output_is_message() -> None:
    expected = ERROR_MESSAGE.replace("\r\n", "\n")
    assert find_test("reflection_2")["output"] == expected


@pytest.fixture(scope="module")
def autograder_zip(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[zipfile.ZipFile]:
    path = tmp_path_factory.mktemp("zip") / "autograder.zip"
    build_zip(path)
    with zipfile.ZipFile(path) as archive:
        yield archive


@pytest.mark.parametrize("name", ["setup.sh", "run_autograder"])
def test_zip_script_at_root(autograder_zip: zipfile.ZipFile, name: str) -> None:
    assert name in autograder_zip.namelist()


@pytest.mark.parametrize("name", ["setup.sh", "run_autograder"])
def test_zip_script_executable(autograder_zip: zipfile.ZipFile, name: str) -> None:
    mode = autograder_zip.getinfo(name).external_attr >> 16
    assert stat.S_IMODE(mode) == 0o755


@pytest.mark.parametrize(
    "name",
    [
        "pyproject.toml",
        "README.md",
        "grader/rubric.py",
        "grader/results.schema.json",
        "grader/checks/pytest.ini",
        "fixtures/mnist/mnist_subset.npz",
        "submission/tensorboard_starter.py",
    ],
)
def test_zip_holds_project_file(autograder_zip: zipfile.ZipFile, name: str) -> None:
    assert name in autograder_zip.namelist()


@pytest.mark.parametrize("part", ["__pycache__", ".pyc", ".egg-info", "tests/"])
def test_zip_leaves_out(autograder_zip: zipfile.ZipFile, part: str) -> None:
    assert not [name for name in autograder_zip.namelist() if part in name]


def test_zip_reproducible(tmp_path: Path) -> None:
    build_zip(tmp_path / "first.zip")
    build_zip(tmp_path / "second.zip")
    first = (tmp_path / "first.zip").read_bytes()
    assert first == (tmp_path / "second.zip").read_bytes()


def run_autograder(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess:
    """Run run_autograder on <tmp_path>/root with the stand-in grader."""
    stand_in = tmp_path / "stand_in_grader.py"
    stand_in.write_text(STAND_IN_GRADER, encoding="utf-8")
    python = tmp_path / "python"
    python.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{stand_in}" "$@"\n', encoding="utf-8"
    )
    python.chmod(0o755)
    environment = {
        **os.environ,
        "AUTOGRADER_ROOT": str(tmp_path / "root"),
        "AUTOGRADER_SOURCE": str(PROJECT_ROOT),
        "AUTOGRADER_PYTHON": str(python),
        "PYTHONPATH": str(PROJECT_ROOT),
        "CALL_RECORD": str(tmp_path / "call.json"),
        **variables,
    }
    return subprocess.run(
        [str(RUN_AUTOGRADER)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def recorded_call(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "call.json").read_text(encoding="utf-8"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Return a folder laid out like Gradescope's /autograder."""
    (tmp_path / "root" / "submission").mkdir(parents=True)
    (tmp_path / "root" / "results").mkdir()
    return tmp_path / "root"


def test_run_exit_zero_with_results(tmp_path: Path, root: Path) -> None:
    assert run_autograder(tmp_path).returncode == 0


def test_run_writes_results(tmp_path: Path, root: Path) -> None:
    run_autograder(tmp_path)
    results = json.loads(
        (root / "results" / "results.json").read_text(encoding="utf-8")
    )
    assert results == rendered()


def test_run_grades_submission_folder(tmp_path: Path, root: Path) -> None:
    run_autograder(tmp_path)
    arguments = recorded_call(tmp_path)["arguments"]
    assert arguments[:3] == ["-m", "grader", str(root / "submission")]


def test_run_from_source_folder(tmp_path: Path, root: Path) -> None:
    run_autograder(tmp_path)
    assert Path(recorded_call(tmp_path)["cwd"]) == PROJECT_ROOT


def test_run_without_colour(tmp_path: Path, root: Path) -> None:
    run_autograder(tmp_path)
    arguments = recorded_call(tmp_path)["arguments"]
    assert arguments[arguments.index("--color") + 1] == "never"


def test_run_removes_report_folder(tmp_path: Path, root: Path) -> None:
    run_autograder(tmp_path)
    arguments = recorded_call(tmp_path)["arguments"]
    assert not Path(arguments[arguments.index("--report-dir") + 1]).exists()


def test_run_repository_layout(tmp_path: Path, root: Path) -> None:
    folder = root / "submission" / "submission"
    folder.mkdir()
    (folder / "tensorboard_starter.py").write_text("", encoding="utf-8")
    run_autograder(tmp_path)
    assert recorded_call(tmp_path)["arguments"][2] == str(folder)


def test_run_creates_results_folder(tmp_path: Path, root: Path) -> None:
    (root / "results").rmdir()
    run_autograder(tmp_path)
    assert (root / "results" / "results.json").is_file()


def test_run_fails_without_results(tmp_path: Path, root: Path) -> None:
    assert run_autograder(tmp_path, WRITE_NOTHING="1").returncode == 1


def test_run_removes_stale_results(tmp_path: Path, root: Path) -> None:
    (root / "results" / "results.json").write_text("{}", encoding="utf-8")
    run_autograder(tmp_path, WRITE_NOTHING="1")
    assert not (root / "results" / "results.json").exists()
