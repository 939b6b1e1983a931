# make grade   grade submission/ (or SUBMISSION=path) and write grade-report/
# make test    the harness's own tests: the fast layer, then the end-to-end layer
# make bench   time a grade of the reference solution against a plain training run
# make gradescope   build autograder.zip for Gradescope

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-from-pyproject
SUBMISSION ?= submission
GRADE_FLAGS ?=
# Two grades side by side: one grade leaves a core idle while its longest task
# group trains alone, so the end-to-end layer took 106 s instead of 142 s for
# six full grades on a 2-core machine (three workers: 105 s).
E2E_WORKERS ?= 2

.PHONY: grade test test-fast test-e2e bench lint clean gradescope

# The virtual environment is rebuilt whenever pyproject.toml is newer than it.
$(STAMP): pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --editable '.[dev]'
	touch $(STAMP)

grade: $(STAMP)
	$(PY) -m grader $(SUBMISSION) $(GRADE_FLAGS)

test: $(STAMP)
	$(PY) -m pytest -m "not e2e"
	$(PY) -m pytest -m e2e -n $(E2E_WORKERS)

test-fast: $(STAMP)
	$(PY) -m pytest -m "not e2e"

test-e2e: $(STAMP)
	$(PY) -m pytest -m e2e -n $(E2E_WORKERS)

bench: $(STAMP)
	$(PY) -m benchmarks.grade_speed

# build_zip.py needs only the standard library, so no .venv is built for it.
gradescope:
	$(PYTHON) gradescope/build_zip.py --output autograder.zip

lint: $(STAMP)
	$(PY) -m ruff check grader tests benchmarks fixtures/mnist gradescope
	$(PY) -m ruff format --check grader tests benchmarks fixtures/mnist gradescope

clean:
	rm -rf $(VENV) grade-report .pytest_cache autograder.zip
