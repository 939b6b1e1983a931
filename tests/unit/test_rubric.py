"""The rubric table and the check tests that score it."""

from __future__ import annotations

import ast
from pathlib import Path

from grader.rubric import MAXIMUM_POINTS, PART_TITLES, RUBRIC

CHECKS_DIR = Path(__file__).resolve().parents[2] / "grader" / "checks"


def marked_ids() -> list[str]:
    """Return the ids in every check("...") marker under grader/checks/."""
    ids = []
    for path in sorted(CHECKS_DIR.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "check"
            ):
                argument = node.args[0]
                if isinstance(argument, ast.Constant):
                    ids.append(argument.value)
                else:  # f"reflection_{number}" over numbers 1 to 4
                    ids.extend(f"reflection_{number}" for number in range(1, 5))
    return ids


def test_points_sum_to_maximum() -> None:
    assert sum(item.points for item in RUBRIC) == MAXIMUM_POINTS == 100


def test_ids_unique() -> None:
    ids = [item.id for item in RUBRIC]
    assert len(ids) == len(set(ids))


def test_every_item_positive() -> None:
    assert all(item.points > 0 for item in RUBRIC)


def test_parts_have_titles() -> None:
    assert {item.part for item in RUBRIC} == set(PART_TITLES)


def test_markers_match_rubric() -> None:
    ids = marked_ids()
    assert sorted(ids) == sorted(item.id for item in RUBRIC)
