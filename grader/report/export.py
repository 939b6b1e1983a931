"""Helpers shared by the report files written for other tools (JUnit, Gradescope).

Those files are read by programs that show student-controlled text (messages,
paths) outside a terminal, so the text is cleaned before it is written.
"""

from __future__ import annotations

import re

from grader.result import CheckResult, GradeResult
from grader.rubric import RUBRIC

MISSING_CHECK_MESSAGE = "The grader reported no result for this check."
REPLACEMENT_CHARACTER = "\ufffd"

# ECMA-48 escape sequences: CSI (colours, cursor moves), OSC (window titles,
# links) and the two-character escapes.
ANSI_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[@-Z\\-_]"
)
# Every character outside XML 1.0's Char production
# (https://www.w3.org/TR/xml/#charsets): most C0 controls, lone surrogates,
# U+FFFE and U+FFFF.
NOT_XML_CHARACTER = re.compile(
    "[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def clean_text(text: str) -> str:
    """Remove ANSI escape sequences, use \\n line ends, replace other control codes.

    Every character that XML 1.0 forbids becomes U+FFFD, so the result can be
    written to an XML file and encoded as UTF-8.
    """
    text = ANSI_ESCAPE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return NOT_XML_CHARACTER.sub(REPLACEMENT_CHARACTER, text)


def first_line(text: str) -> str:
    """Return the first line of text that is not blank, stripped."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def report_checks(result: GradeResult) -> tuple[CheckResult, ...]:
    """Return one result per check: rubric checks in rubric order, then the others.

    A rubric check missing from the result is reported as an error with no
    points, and a repeated check id keeps its first result, so each rubric id
    appears exactly once.
    """
    by_id: dict[str, CheckResult] = {}
    for check in result.checks:
        by_id.setdefault(check.id, check)
    rubric_checks = tuple(
        by_id.pop(item.id, None)
        or CheckResult(
            item.id, item.title, item.part, 0, item.points, "error",
            MISSING_CHECK_MESSAGE,
        )
        for item in RUBRIC
    )  # fmt: skip
    return rubric_checks + tuple(by_id.values())
