# Kiln: set-up, main job and tests. Every target builds .venv first if it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.kiln-installed

.PHONY: venv run test lint bench clean

venv: $(STAMP)

# torch is installed first and pinned (constraints.txt), so that nothing else pulls another (CUDA) build.
# The peers extra (scikit-optimize, Optuna, BayBE, Ax) is installed too: the benchmark tests compare against them;
# so is the cluster extra (Ray): kiln bench suite --ray and its test.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,peers,cluster]'
	touch $(STAMP)

run: venv
	$(BIN)/kiln run examples/p3ht.yaml --store sqlite:///kiln-demo.db

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

bench: venv
	$(BIN)/python benchmarks/recommendation_latency.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
