# The two commands of the README, and their helpers. Everything installs itself.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: site site-live snapshot test test-container deps bench lint clean

# The suite on every core: one mirror for all workers, built while they start with the tests
# that need none; each test file in one worker (tests/conftest.py).
PYTEST_CORES := -n auto

# A recorded snapshot folder (see `make snapshot`); empty: the mirror's synthetic snapshot.
SNAPSHOT ?=

## site: build the lesson into _build/html, executing every episode against the offline mirror
## (serving the recorded snapshot in SNAPSHOT=DIR when given)
site: deps
	$(BIN)/satlesson mirror run $(if $(SNAPSHOT),--snapshot $(SNAPSHOT)) -- \
		$(BIN)/jupyter-book build . --builder html -W --keep-going

## site-live: the same build against the real online services, into _build/live/_build/html
## (needs internet, and an Earthdata Login in ~/.netrc for the protected-file cells). It starts
## no mirror and drops any routing to one that `eval "$(satlesson mirror env)"` left in this
## shell (its proxy and CA settings, so a proxy of your own must be set again in the command);
## its own output folder holds its own execution cache, so mirror outputs never mix in.
site-live: deps
	env -u SATLESSON_MIRROR -u HTTPS_PROXY -u https_proxy -u NO_PROXY -u no_proxy \
		-u REQUESTS_CA_BUNDLE -u CURL_CA_BUNDLE -u GDAL_CURL_CA_BUNDLE -u SSL_CERT_FILE -u NETRC \
		$(BIN)/jupyter-book build . --builder html -W --keep-going --path-output _build/live

## snapshot: record what the episodes read from the real services into SNAPSHOT=DIR (needs
## internet and an Earthdata Login in ~/.netrc); `make site SNAPSHOT=DIR` then builds offline
snapshot: deps
	@test -n "$(SNAPSHOT)" || { echo "usage: make snapshot SNAPSHOT=DIR"; exit 2; }
	env -u NETRC $(BIN)/satlesson mirror record --out $(SNAPSHOT) -- \
		$(BIN)/jupyter-book build . --builder html -W --keep-going --path-output _build/record

## test: the whole suite (lint, import contracts, lesson checks, then in pytest the types, unit, mirror,
## episode and page tests)
test: deps
	$(BIN)/ruff check src tests scripts
	$(BIN)/lint-imports
	$(BIN)/satlesson check
	$(BIN)/python -m pytest $(PYTEST_CORES)

## test-container: build the mirror's container image (Containerfile) with Podman from a Debian
## base made here (nothing pulled from a registry), start it, run the seed's calls and episode
## 1's learner notebook against it through `satlesson kernel install --mirror URL`, compare it
## with `satlesson mirror serve` on this machine, and stop it (scripts/test-container.sh)
test-container: deps
	PYTHON=$(BIN)/python ./scripts/test-container.sh

## bench: print the mirror's and the build's figures, and the test suite's phases with their times
bench: deps
	$(BIN)/python scripts/bench_clip.py
	$(BIN)/python scripts/bench_episodes.py
	$(BIN)/python scripts/bench_build.py --cold
	$(BIN)/python scripts/bench_record.py
	$(BIN)/python scripts/bench_room.py
	$(BIN)/python scripts/bench_snapshot.py
	$(BIN)/python scripts/bench_archive.py
	$(BIN)/python scripts/bench_suite.py

deps: $(STAMP)
	./scripts/install-system-deps.sh
	@# mitmproxy, for the mirror's proxy, in an environment of its own (its pins clash)
	@$(BIN)/python -m satlesson.mirror.server.proxy >/dev/null

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# No bytecode now: Python writes it for the modules it imports, and most are never imported.
	$(BIN)/python -m pip install -q --no-compile -e ".[mirror,docs,test]"
	touch $@

lint: deps
	$(BIN)/ruff check src tests scripts

clean:
	rm -rf _build .pytest_cache
