# Two commands do all set-up:  `make run` (the app on the sample data) and `make test`.
# Each creates .venv when it is missing, and re-installs when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TORCH_VERSION ?= 2.13.0
# A CPU-only torch where no NVIDIA GPU is seen: first the local/registry "+cpu" wheel,
# else PyTorch's CPU index. With an NVIDIA GPU, the default (CUDA) wheel.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu

.PHONY: run test bench lint clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
		echo "NVIDIA GPU found: installing the CUDA build of torch $(TORCH_VERSION)"; \
		$(PY) -m pip install "torch==$(TORCH_VERSION)"; \
	elif [ "$$(uname -s)" = "Darwin" ]; then \
		$(PY) -m pip install "torch==$(TORCH_VERSION)"; \
	else \
		echo "No NVIDIA GPU: installing a CPU-only build of torch $(TORCH_VERSION)"; \
		$(PY) -m pip install "torch==$(TORCH_VERSION)+cpu" 2>/dev/null || \
		$(PY) -m pip install "torch==$(TORCH_VERSION)" --index-url $(TORCH_CPU_INDEX); \
	fi
	$(PY) -m pip install -e ".[dev,io]"
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/omicsgat-gui sample_data/pbmc68k_reduced.h5ad

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	QT_QPA_PLATFORM=offscreen MPLBACKEND=Agg $(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
