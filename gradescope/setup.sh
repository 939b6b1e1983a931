#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (Ubuntu 22.04 by default), with the zip unpacked in /autograder/source.
# It installs Python from the image's packages and the grader with its
# dependencies, TensorFlow included, into /autograder/source/.venv.
#
# AUTOGRADER_SOURCE overrides /autograder/source, to try the script elsewhere.
set -euo pipefail

source_dir="${AUTOGRADER_SOURCE:-/autograder/source}"
venv="$source_dir/.venv"

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv

# pyproject.toml requires Python 3.10 to 3.12. Ubuntu 22.04 ships 3.10 and 24.04 ships 3.12.
python3 - <<'EOF'
import sys

if not (3, 10) <= sys.version_info[:2] <= (3, 12):
    sys.exit(
        f"The grader needs Python 3.10 to 3.12, but python3 is {sys.version.split()[0]}."
        " Choose the Ubuntu 22.04 or 24.04 base image."
    )
EOF

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
# Install in editable mode, as make does, because grader/dataset.py reads
# fixtures/mnist from the folder above the grader package.
"$venv/bin/python" -m pip install --quiet --editable "$source_dir"
# Fail the image build now, not at the first submission, if the install is broken.
(cd "$source_dir" && "$venv/bin/python" -m grader --help >/dev/null)
"$venv/bin/python" -c "import keras, tbparse, tensorflow"
echo "The grader is installed in $venv."
