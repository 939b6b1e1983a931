"""Tests of the points badge."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader.report.badge import badge_for_results, main, points_badge

SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(svg).iter(f"{SVG}text")]


def fills(svg: str) -> list[str]:
    return [path.get("fill", "") for path in ET.fromstring(svg).iter(f"{SVG}path")]


def test_label() -> None:
    assert "points" in texts(points_badge(83, 100))


def test_value() -> None:
    assert "83/100" in texts(points_badge(83, 100))


@pytest.mark.parametrize(
    ("total", "colour"),
    [
        (100, "#4C1"),
        (99, "#9ACD32"),
        (80, "#9ACD32"),
        (79, "#DFB317"),
        (60, "#DFB317"),
        (40, "#FE7D37"),
        (39, "#E05D44"),
        (0, "#E05D44"),
    ],
)
def test_colour(total: int, colour: str) -> None:
    assert colour in fills(points_badge(total, 100))


def test_zero_maximum() -> None:
    assert "#E05D44" in fills(points_badge(0, 0))


def test_grader_error_badge() -> None:
    svg = badge_for_results({"total": 0, "maximum": 100, "exit_code": 2})
    assert "error" in texts(svg)


def test_grader_error_grey() -> None:
    svg = badge_for_results({"total": 0, "maximum": 100, "exit_code": 2})
    assert "#D3D3D3" in fills(svg)


def test_main_writes_badge(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"total": 95, "maximum": 100, "exit_code": 1}))
    main([str(results), str(tmp_path / "badges" / "points.svg")])
    assert "95/100" in texts((tmp_path / "badges" / "points.svg").read_text())
