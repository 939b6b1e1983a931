"""The pytest plugin that runs the rubric checks and collects their outcomes.

The grader calls pytest in its own process on grader/checks/ with an instance
of GradingPlugin, which gives the checks their fixtures (``run``, ``events``,
``answers``) and records each check's status and message. Every rubric check
gets a result, also one that pytest never ran.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.checks.support import CheckFailed
from grader.events import EventTable
from grader.provenance import drop_stale
from grader.reflections import Answer
from grader.result import CheckResult, CheckStatus, valid_text
from grader.rubric import RUBRIC, RUBRIC_BY_ID
from grader.runner import SubmissionRun

logger = logging.getLogger(__name__)

CHECKS_DIR = Path(__file__).with_name("checks")
CHECK_TIMEOUT_S = 30
AUTOLOAD_VARIABLE = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


@dataclass(frozen=True)
class Evidence:
    """The run, its events and answers, handed out by grader/checks/conftest.py."""

    run: SubmissionRun
    events: EventTable
    answers: dict[int, Answer]


EVIDENCE_KEY = pytest.StashKey[Evidence]()


class GradingPlugin:
    def __init__(
        self, run: SubmissionRun, events: EventTable, answers: dict[int, Answer]
    ) -> None:
        self._run = run
        self._events = drop_stale(events, run)
        self._answers = answers
        self.outcomes: dict[str, tuple[CheckStatus, str]] = {}

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "check(id): the rubric check a test scores")
        config.stash[EVIDENCE_KEY] = Evidence(self._run, self._events, self._answers)

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        seen: dict[str, str] = {}
        for item in items:
            marker = item.get_closest_marker("check")
            if marker is None or marker.args[0] not in RUBRIC_BY_ID:
                raise pytest.UsageError(f"{item.nodeid} has no rubric check marker")
            check_id = marker.args[0]
            if check_id in seen:
                raise pytest.UsageError(
                    f"{item.nodeid} and {seen[check_id]} both score {check_id!r}"
                )
            seen[check_id] = item.nodeid
            item.add_marker(pytest.mark.timeout(CHECK_TIMEOUT_S))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        check_id = item.get_closest_marker("check").args[0]
        if report.when == "call" or report.outcome != "passed":
            if check_id not in self.outcomes or self.outcomes[check_id][0] == "passed":
                self.outcomes[check_id] = outcome_of(report, call)
        return report

    def results(self) -> tuple[CheckResult, ...]:
        results = []
        for item in RUBRIC:
            status, message = self.outcomes.get(
                item.id, ("error", "The grader did not run this check.")
            )
            points = item.points if status == "passed" else 0
            message = valid_text(message)
            results.append(
                CheckResult(
                    item.id, item.title, item.part, points, item.points, status, message
                )
            )
        return tuple(results)


def outcome_of(
    report: pytest.TestReport, call: pytest.CallInfo
) -> tuple[CheckStatus, str]:
    if report.outcome == "passed":
        return "passed", ""
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, CheckFailed):
        return "failed", str(error)
    return "error", f"The grader's check itself failed ({report.when}): " + (
        call.excinfo.exconly() if call.excinfo is not None else report.longreprtext
    )


@contextlib.contextmanager
def plugin_autoload_off() -> Iterator[None]:
    previous = os.environ.get(AUTOLOAD_VARIABLE)
    os.environ[AUTOLOAD_VARIABLE] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[AUTOLOAD_VARIABLE]
        else:
            os.environ[AUTOLOAD_VARIABLE] = previous


def run_checks(plugin: GradingPlugin) -> int:
    """Run every check under grader/checks/ and return pytest's exit code.

    pytest's own output goes to the debug log, because the grader renders its
    own report. Plugins installed in the environment are not loaded, so that
    none can change how the checks score; pytest-timeout is named instead.
    """
    arguments = [
        str(CHECKS_DIR),
        "--rootdir", str(CHECKS_DIR),
        "-c", str(CHECKS_DIR / "pytest.ini"),
        "-p", "no:cacheprovider",
        "-p", "pytest_timeout",
        "-q",
    ]  # fmt: skip
    output = io.StringIO()
    with contextlib.redirect_stdout(output), plugin_autoload_off():
        exit_code = pytest.main(arguments, plugins=[plugin])
    logger.debug("pytest output:\n%s", output.getvalue())
    return exit_code
