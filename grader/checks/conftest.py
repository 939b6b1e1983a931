"""Fixtures of the rubric checks: the evidence that the grader collected."""

from __future__ import annotations

import pytest

from grader.events import EventTable
from grader.plugin import EVIDENCE_KEY
from grader.reflections import Answer
from grader.runner import SubmissionRun


@pytest.fixture(scope="session")
def run(pytestconfig: pytest.Config) -> SubmissionRun:
    return pytestconfig.stash[EVIDENCE_KEY].run


@pytest.fixture(scope="session")
def events(pytestconfig: pytest.Config) -> EventTable:
    return pytestconfig.stash[EVIDENCE_KEY].events


@pytest.fixture(scope="session")
def answers(pytestconfig: pytest.Config) -> dict[int, Answer]:
    return pytestconfig.stash[EVIDENCE_KEY].answers
