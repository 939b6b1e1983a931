"""The command line without training: arguments, a missing file, the outer handler."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from grader import cli
from grader.rubric import RUBRIC


def test_time_limit_parsed() -> None:
    assert cli.parse_time_limit("comparison=20") == ("comparison", 20.0)


@pytest.mark.parametrize("text", ["comparison", "comparison=0", "comparison=x"])
def test_time_limit_invalid(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid time limit"):
        cli.parse_time_limit(text)


def test_time_limit_unknown_group() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="unknown task group"):
        cli.parse_time_limit("training=20")


def test_folder_resolves_to_file(tmp_path: Path) -> None:
    (tmp_path / "tensorboard_starter.py").write_text("", encoding="utf-8")
    assert cli.find_submission(tmp_path) == tmp_path / "tensorboard_starter.py"


def test_missing_submission_report(tmp_path: Path, capsys) -> None:
    report_dir = tmp_path / "report"
    exit_code = cli.main(
        [str(tmp_path / "nothing"), "--report-dir", str(report_dir), "--color", "never"]
    )
    result = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    assert exit_code == 1
    assert result["total"] == 0
    assert [check["id"] for check in result["checks"]] == [i.id for i in RUBRIC]
    assert {check["status"] for check in result["checks"]} == {"failed"}
    assert "nothing at" in result["checks"][0]["message"]
    assert "Score: 0/100" in capsys.readouterr().out
    assert (report_dir / "junit.xml").is_file()


def test_grader_failure_report(tmp_path: Path, monkeypatch, capsys) -> None:
    def broken_grade(options, console, phases):
        raise OSError("disk full")

    monkeypatch.setattr(cli, "grade", broken_grade)
    report_dir = tmp_path / "report"
    exit_code = cli.main(["--report-dir", str(report_dir), "--color", "never"])
    result = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    assert exit_code == 2
    assert result["grader_error"] == "The grader failed: OSError: disk full"
    assert len(result["checks"]) == len(RUBRIC)
    assert {check["status"] for check in result["checks"]} == {"error"}


def test_missing_file_lists_folder(tmp_path: Path) -> None:
    (tmp_path / "tensorboard_starter (1).py").write_text("", encoding="utf-8")
    found = cli.describe_missing(tmp_path)
    assert found == (
        f"no tensorboard_starter.py in {tmp_path}; it holds tensorboard_starter (1).py"
    )
