# noisescope: two commands do everything on a fresh Debian/Ubuntu machine.
#   make serve   install, warm the numba cache, serve http://localhost:5006
#   make test    install (incl. Debian's chromium), lint, run every test (slow + browser)
#   make bench   install, run every benchmark, write benchmarks/results/table.md

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 5006
CHROMIUM ?= /usr/bin/chromium
# Optional dependency groups; the Docker image serves only: make install EXTRAS=
EXTRAS ?= test,bench
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install serve test lint bench browser warm clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e '.$(if $(strip $(EXTRAS)),[$(EXTRAS)])'
	@# iisignature (test/bench reference for the signature tab) ships only an sdist that needs
	@# numpy at build time, so it is built without isolation against the venv's numpy.
	$(if $(strip $(EXTRAS)),$(BIN)/python -m pip install --quiet setuptools wheel && \
		$(BIN)/python -m pip install --quiet --no-build-isolation iisignature==0.24)
	touch $(STAMP)

install: $(STAMP)

# Debian's chromium drives the browser tests (Playwright's own browser download is not used).
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "installing Debian's chromium"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; \
	fi
	@test -x "$(CHROMIUM)" || { echo "chromium missing at $(CHROMIUM)"; exit 1; }

warm: $(STAMP)
	$(BIN)/noisescope warm

serve: $(STAMP)
	$(BIN)/noisescope serve --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(STAMP) browser lint
	NOISESCOPE_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m "slow or not slow" tests

bench: $(STAMP) browser
	NOISESCOPE_CHROMIUM=$(CHROMIUM) $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) test-artifacts benchmarks/results
