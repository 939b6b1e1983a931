"""Record the reference solution's grading run into tests/data/reference_run/.

Run it from the project root after a change to the driver or the reference:

    .venv/bin/python tests/data/record_reference_run.py

It trains for real (about 30 s) and replaces the recording, which the fast
tests read instead of training.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))

from grader.dataset import verify_subset  # noqa: E402
from grader.runner import RunSettings, run_submission  # noqa: E402
from tests.recorded_run import RECORDING, save_run  # noqa: E402

REFERENCE = PROJECT_ROOT / "fixtures" / "submissions" / "reference"


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="reference-run-"))
    try:
        settings = RunSettings(verify_subset(), probe_learning_rate=0.00237)
        run = run_submission(REFERENCE / "tensorboard_starter.py", workdir, settings)
        failed = [
            group for group, result in run.groups.items() if result.status != "finished"
        ]
        if failed:
            raise SystemExit(f"The reference run did not finish: {failed}")
        save_run(run, RECORDING)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"Recorded the reference run in {RECORDING}")


if __name__ == "__main__":
    main()
