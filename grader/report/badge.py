"""The points badge: an SVG that reads "points N/100", coloured by the score.

    python -m grader.report.badge grade-report/results.json points.svg

writes the badge of a results.json. When the grader failed, the badge is grey
and reads "points error" instead of a score.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import anybadge

LABEL = "points"
# Pairs of (lowest share of the maximum, colour name), highest share first.
COLOURS: tuple[tuple[float, str], ...] = (
    (1.0, "green"),
    (0.8, "yellowgreen"),
    (0.6, "yellow"),
    (0.4, "orange"),
    (0.0, "red"),
)
ERROR_COLOUR = "lightgrey"


def badge_colour(total: int, maximum: int) -> str:
    """Return the colour name for total points out of maximum."""
    share = total / maximum if maximum > 0 else 0.0
    return next((colour for lowest, colour in COLOURS if share >= lowest), "red")


def points_badge(total: int, maximum: int) -> str:
    """Return the SVG text of a badge that reads "points <total>/<maximum>"."""
    colour = badge_colour(total, maximum)
    return _svg(f"{total}/{maximum}", colour)


def error_badge() -> str:
    """Return the SVG text of a badge that reads "points error"."""
    return _svg("error", ERROR_COLOUR)


def _svg(value: str, colour: str) -> str:
    return anybadge.Badge(LABEL, value, default_color=colour).badge_svg_text


def badge_for_results(results: dict) -> str:
    """Return the badge for the dict of a results.json."""
    if results.get("exit_code") == 2:
        return error_badge()
    return points_badge(int(results["total"]), int(results["maximum"]))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grader.report.badge",
        description="Write the points badge of a grade as SVG.",
    )
    parser.add_argument("results", type=Path, help="the grade's results.json")
    parser.add_argument("output", type=Path, help="the SVG file to write")
    options = parser.parse_args(argv)
    results = json.loads(options.results.read_text(encoding="utf-8"))
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(badge_for_results(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
