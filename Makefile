# Two commands do all set-up on a fresh machine (python3, make, registry access):
#   make report   environment from uv.lock, then the whole report into _book/
#   make test     environment if needed, then the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := .uv/bin/uv
STAMP  := $(VENV)/.synced
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)


.PHONY: report test lint bench clean notebooks env data r-fixtures browser-deps

env: $(STAMP)

# uv is installed with pip into a small venv of its own (.uv/, never a global install), then
# syncs the locked environment into .venv with the machine's python3 (uv never downloads one).
$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check "uv>=0.5"

$(STAMP): pyproject.toml uv.lock | $(UV)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(UV) sync --frozen --compile-bytecode --python $(BIN)/python --quiet
	@touch $(STAMP)

report: $(STAMP)
	$(BIN)/barometre build

# Used by Quarto's pre-render: execute the chapters (cached), no rendering.
notebooks: $(STAMP)
	$(BIN)/barometre build --execute-only

test: $(STAMP) browser-deps
	$(BIN)/python -m pytest -q

# What the browser tests (tests/test_browser.py) need beside the Python environment: Debian's
# chromium (driven by Playwright for Python, never Playwright's own browser download) and
# axe-core from npm (tests/browser/package-lock.json, into the git-ignored node_modules/).
# As root with apt, missing packages are installed; elsewhere the tests skip with the reason.
BROWSER := tests/browser
APT_GET := apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 -qq
browser-deps: $(BROWSER)/node_modules/.installed
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian chromium for the browser tests…"; \
	    $(APT_GET) update && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y chromium >/dev/null; \
	  else echo "chromium missing and not root: the browser tests will skip"; fi; }

$(BROWSER)/node_modules/.installed: $(BROWSER)/package.json $(BROWSER)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    $(APT_GET) update && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y npm >/dev/null; \
	  fi; }
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(BROWSER) && npm ci --no-audit --no-fund --silent && touch node_modules/.installed; \
	else echo "npm missing and not root: the accessibility tests will skip"; fi

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check analysis tests bench scripts
	$(BIN)/ruff format --check analysis tests bench scripts

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf _book .build .uv executed data/processed data/exports bench/.work .pytest_cache .ruff_cache

# Known answers of R's survey package (tests/fixtures/r_survey/): a developer's tool, CI has no R.
r-fixtures: $(STAMP)
	command -v Rscript >/dev/null || apt-get install -y r-cran-survey r-cran-jsonlite
	$(BIN)/python scripts/r_fixtures/make_datasets.py
	Rscript scripts/r_fixtures/survey_fixtures.R
