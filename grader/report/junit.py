"""JUnit XML report of a grading run, for CI test reporters.

The layout is the subset that these readers parse, as their source shows:

- dorny/test-reporter v3.0.0, java-junit parser (xml2js): it needs ``name``
  and ``time`` on <testsuite> and ``name``, ``classname`` and ``time`` on each
  <testcase>, and shows "<type>: <message>" of the first <failure> or <error>.
- mikepenz/action-junit-report v6.4.2 (xml-js): it counts the test cases
  itself and shows the ``message`` attribute as the annotation, with the
  element's text as its details.
- GitLab unit test reports, lib/gitlab/ci/parsers/test/junit.rb (gitlabhq
  mirror at d23f0cff) on ActiveSupport's XMLConverter: it shows ``classname``
  as the suite and the text of <failure> or <error> as the output. The
  converter takes that text only when it is not blank, casts it for some
  ``type`` values such as "integer" and rejects "yaml" and "symbol". So the
  types here are "failed" and "error", and the text is never empty. GitLab
  keeps only the first of two test cases with the same name, and the check
  ids keep the names unique.

All three reject a file that is not well-formed XML, so every text goes
through clean_text before ElementTree escapes it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from grader.report.export import clean_text, first_line, report_checks
from grader.result import CheckResult, GradeResult

SUITE_NAME = "tensorboard-exploration"
INDENT = "  "
# The element and its type attribute for each status that is not "passed".
ISSUE_KINDS = {"failed": ("failure", "failed"), "error": ("error", "error")}
DEFAULT_MESSAGES = {
    "failed": "The check failed.",
    "error": "The grader could not run this check.",
}


def render_junit(result: GradeResult) -> str:
    """Render the result as a JUnit XML document with one test case per check."""
    checks = report_checks(result)
    counts = count_attributes(checks, result.duration_s)
    root = ET.Element("testsuites", {"name": SUITE_NAME, **counts})
    suite = ET.SubElement(root, "testsuite", suite_attributes(result, counts))
    add_properties(suite, result)
    for check in checks:
        add_testcase(suite, check)
    ET.indent(root, space=INDENT)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True).decode("utf-8")


def write_junit(result: GradeResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_junit(result) + "\n", encoding="utf-8")


def count_attributes(
    checks: tuple[CheckResult, ...], duration_s: float
) -> dict[str, str]:
    return {
        "tests": str(len(checks)),
        "failures": str(sum(check.status == "failed" for check in checks)),
        "errors": str(
            sum(check.status not in ("passed", "failed") for check in checks)
        ),
        "time": f"{max(duration_s, 0.0):.3f}",
    }


def suite_attributes(result: GradeResult, counts: dict[str, str]) -> dict[str, str]:
    return {
        "name": SUITE_NAME,
        **counts,
        "skipped": "0",
        "timestamp": clean_text(result.started_at),
    }


def add_properties(suite: ET.Element, result: GradeResult) -> None:
    properties = ET.SubElement(suite, "properties")
    values = {"score": str(result.total), "maximum": str(result.maximum)}
    if result.grader_error is not None:
        values["grader_error"] = result.grader_error
    for name, value in values.items():
        ET.SubElement(
            properties, "property", {"name": name, "value": clean_text(value)}
        )


def add_testcase(suite: ET.Element, check: CheckResult) -> None:
    testcase = ET.SubElement(
        suite,
        "testcase",
        {
            "classname": clean_text(check.part),
            "name": clean_text(f"{check.id}: {check.title}"),
            "time": "0",
        },
    )
    if check.status != "passed":
        add_issue(testcase, check)


def add_issue(testcase: ET.Element, check: CheckResult) -> None:
    """Add a <failure> for a failed check, or an <error> for any other status."""
    tag, issue_type = ISSUE_KINDS.get(check.status, ISSUE_KINDS["error"])
    text = clean_text(check.message)
    if not text.strip():
        text = DEFAULT_MESSAGES[issue_type]
    issue = ET.SubElement(
        testcase, tag, {"message": first_line(text), "type": issue_type}
    )
    issue.text = text
