# Vigie: `make demo` needs only Python >= 3.11; `make test` also installs, as root, the Debian packages
# its tests use (scripts/system-packages), or says in one line what to install.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
SAMPLE := gis_data/eure/eure.gpkg

.PHONY: help install system-packages demo test lint format validate-sample sample sample-departement estimate-departement preview serve clean

help:
	@echo "make demo     install into .venv and run the main job on the embedded defaults"
	@echo "make test     install the system packages the tests use (as root) and .venv, lint,"
	@echo "              validate the sample, run the tests"
	@echo "make lint | format | sample | sample-departement | estimate-departement | preview | serve | clean"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Vigie needs Python >= 3.11 (set PYTHON=python3.11)"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@echo "compiling the Steiner kernels (numba, once per install)"
	$(BIN)/python -c 'from planning.steiner import warm_up; warm_up()'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/vigie demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

validate-sample: $(STAMP)
	$(BIN)/vigie validate $(SAMPLE)

# chromium, LibreOffice, QGIS, GStreamer's RTSP server, PostgreSQL: installed as root, else one
# line says what to install (scripts/system-packages).
system-packages:
	@scripts/system-packages

# The suite in three processes side by side (scripts/run-tests); `$(BIN)/pytest` runs it in one.
test: system-packages lint validate-sample
	$(BIN)/python scripts/run-tests

# Regenerate the committed sample (deterministic: the same seed gives the same layers).
sample: $(STAMP)
	$(BIN)/vigie sample eure --scope epci --out $(SAMPLE)

# Redraw gis_data/eure/preview.png from the committed sample.
preview: $(STAMP)
	$(BIN)/python gis_data/preview.py

# The whole département, for benchmarks (not committed).
sample-departement: $(STAMP)
	$(BIN)/vigie sample eure --scope departement --out var/eure-departement.gpkg

# The whole département planned and priced, beside the programme's envelope (README).
estimate-departement: sample-departement
	$(BIN)/vigie plan var/eure-departement.gpkg --out var/plan-departement
	$(BIN)/vigie estimate var/plan-departement --out var/dqe-departement.xlsx

# A developer's service: development mode (a key per process; production refuses to start
# without VIGIE_SECRET_KEY and VIGIE_CREDENTIALS_KEYS, see the README's Security section).
serve: $(STAMP)
	$(BIN)/vigie db upgrade
	VIGIE_ENVIRONMENT=$${VIGIE_ENVIRONMENT:-development} $(BIN)/vigie serve

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache var
