# noisescope: two commands do everything on a fresh Debian/Ubuntu machine.
#   make serve   install, warm the numba cache, serve http://localhost:5006
#   make test    install (incl. Debian's chromium), lint, run every test (slow + browser)
#   make bench   install, run every benchmark, write benchmarks/results/table.md

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
# Serving needs the runtime dependencies only; tests and benchmarks add their extras (the
# reference libraries, torch among them) on top, in a stamp of their own.
STAMP  := $(VENV)/.installed
EXTRAS_STAMP := $(VENV)/.installed-extras
PORT   ?= 5006
CHROMIUM ?= /usr/bin/chromium
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install serve test lint bench browser warm clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e '.'
	touch $(STAMP)

$(EXTRAS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@# iisignature (test/bench reference for the signature tab) ships only an sdist that needs
	@# numpy at build time, so it is built without isolation against the venv's numpy.
	$(BIN)/python -m pip install --quiet setuptools wheel
	$(BIN)/python -m pip install --quiet --no-build-isolation iisignature==0.24
	touch $(EXTRAS_STAMP)

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

lint: $(EXTRAS_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(EXTRAS_STAMP) browser lint
	NOISESCOPE_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m "slow or not slow" tests

bench: $(EXTRAS_STAMP) browser
	NOISESCOPE_CHROMIUM=$(CHROMIUM) $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) test-artifacts benchmarks/results
