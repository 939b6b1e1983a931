"""Tests of the JUnit XML report.

The golden file is tests/unit/golden/junit.xml. After an intended change of
the format, rewrite it with UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from grader.report.export import MISSING_CHECK_MESSAGE
from grader.report.junit import SUITE_NAME, render_junit, write_junit
from grader.rubric import RUBRIC, RubricItem
from tests.report_samples import (
    DURATION_S,
    ERROR_MESSAGE,
    SAMPLE_TOTAL,
    sample_result,
)

GOLDEN = Path(__file__).parent / "golden" / "junit.xml"
CLEANED_SPECIAL_MESSAGE = (
    "Expected 100% of the runs in logs/<name>_<YYYYMMDD-HHMMSS> :: "
    "\"quoted\" & 'single'\n"
    "Found: logs/basic | logs/basic\ufffd\n"
    'Hint: name the folder with datetime.now().strftime("%Y%m%d-%H%M%S").'
)
EXPECTED_COUNTS = {"tests": "26", "failures": "2", "errors": "1"}


def parse(result=None) -> ET.Element:
    return ET.fromstring(render_junit(result or sample_result()))


def find_testcase(root: ET.Element, check_id: str) -> ET.Element:
    return next(
        case
        for case in root.iter("testcase")
        if case.get("name", "").startswith(f"{check_id}: ")
    )


def properties(root: ET.Element) -> dict[str, str]:
    return {prop.get("name"): prop.get("value") for prop in root.iter("property")}


def test_matches_golden() -> None:
    text = render_junit(sample_result()) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_write_matches_render(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "junit.xml"
    write_junit(sample_result(), path)
    assert path.read_text(encoding="utf-8") == render_junit(sample_result()) + "\n"


def test_written_file_parses(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit(sample_result(), path)
    assert ET.parse(path).getroot().tag == "testsuites"


def test_one_suite() -> None:
    assert [suite.get("name") for suite in parse().iter("testsuite")] == [SUITE_NAME]


@pytest.mark.parametrize("attribute", EXPECTED_COUNTS)
def test_root_counts(attribute: str) -> None:
    assert parse().get(attribute) == EXPECTED_COUNTS[attribute]


@pytest.mark.parametrize("attribute", EXPECTED_COUNTS)
def test_suite_counts(attribute: str) -> None:
    assert parse().find("testsuite").get(attribute) == EXPECTED_COUNTS[attribute]


def test_suite_time_is_duration() -> None:
    assert float(parse().find("testsuite").get("time")) == DURATION_S


@pytest.mark.parametrize("item", RUBRIC, ids=lambda item: item.id)
def test_every_rubric_id_once(item: RubricItem) -> None:
    names = [case.get("name") for case in parse().iter("testcase")]
    assert names.count(f"{item.id}: {item.title}") == 1


@pytest.mark.parametrize("item", RUBRIC, ids=lambda item: item.id)
def test_classname_is_part(item: RubricItem) -> None:
    assert find_testcase(parse(), item.id).get("classname") == item.part


def test_testcase_time_zero() -> None:
    assert {case.get("time") for case in parse().iter("testcase")} == {"0"}


def test_passed_check_has_no_children() -> None:
    assert list(find_testcase(parse(), "callback_type")) == []


def test_failure_text_cleaned() -> None:
    failure = find_testcase(parse(), "log_dir_format").find("failure")
    assert failure.text == CLEANED_SPECIAL_MESSAGE


def test_failure_message_is_first_line() -> None:
    failure = find_testcase(parse(), "log_dir_format").find("failure")
    assert failure.get("message") == CLEANED_SPECIAL_MESSAGE.splitlines()[0]


def test_failure_type() -> None:
    failure = find_testcase(parse(), "log_dir_format").find("failure")
    assert failure.get("type") == "failed"


def test_empty_message_gets_text() -> None:
    failure = find_testcase(parse(), "comparison_printed_accuracy").find("failure")
    assert failure.text.strip()


def test_error_element() -> None:
    error = find_testcase(parse(), "reflection_2").find("error")
    assert error.get("type") == "error"


def test_error_text_uses_newlines() -> None:
    error = find_testcase(parse(), "reflection_2").find("error")
    assert error.text == ERROR_MESSAGE.replace("\r\n", "\n")


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\r"])
def test_no_forbidden_character(character: str) -> None:
    assert character not in render_junit(sample_result())


def test_score_property() -> None:
    assert properties(parse())["score"] == str(SAMPLE_TOTAL)


def test_maximum_property() -> None:
    assert properties(parse())["maximum"] == "100"


def test_no_grader_error_property() -> None:
    assert "grader_error" not in properties(parse())


def test_grader_error_property() -> None:
    root = parse(sample_result(grader_error="The grader failed: \x00 disk full"))
    assert properties(root)["grader_error"] == "The grader failed: \ufffd disk full"


def test_missing_check_is_error() -> None:
    result = sample_result()
    result = replace(result, checks=result.checks[1:])
    error = find_testcase(parse(result), RUBRIC[0].id).find("error")
    assert error.text == MISSING_CHECK_MESSAGE


def test_missing_check_counted() -> None:
    result = sample_result()
    result = replace(result, checks=result.checks[1:])
    assert parse(result).get("errors") == "2"


def test_repeated_check_kept_once() -> None:
    result = sample_result()
    result = replace(result, checks=result.checks + result.checks[:1])
    assert parse(result).get("tests") == "26"
