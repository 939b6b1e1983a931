"""Reflection questions: four answers in the comments at the end of the file."""

from __future__ import annotations

import pytest

from grader.checks.support import CheckFailed
from grader.reflections import Answer, find_problem


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(number, marks=pytest.mark.check(f"reflection_{number}"))
        for number in (1, 2, 3, 4)
    ],
)
def test_reflection(number: int, answers: dict[int, Answer]) -> None:
    problem = find_problem(number, answers)
    if problem is not None:
        raise CheckFailed(problem)
