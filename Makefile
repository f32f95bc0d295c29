# Every install step lives here, so a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# One Python minor version for development, CI and the image (.python-version, the
# Dockerfile's base): the locks below are resolved for it.
PYTHON_MINOR := $(shell cat .python-version)
LOCKS  := requirements/build.lock requirements/runtime.lock requirements/dev.lock
# What `make lock` passes uv: the interpreter and platform the locks are for.
UV_COMPILE := $(BIN)/uv pip compile --quiet --generate-hashes \
	--python-version $(PYTHON_MINOR) --python-platform x86_64-unknown-linux-gnu

.PHONY: install browser sisimai demo docs-image test lint typecheck pytest bench clean lock lock-upgrade

install: $(STAMP)

# Headless Chromium renders the digest in tests (Debian package; root + apt-get only).
# Only the tests need it, so `make demo` stays quick on a fresh machine.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		|| echo "chromium unavailable: the digest browser tests will skip"

# Sisimai, the reference bounce analyser, is the oracle the failed-recipient test holds
# ghostwatch to (tests/corpora/test_sisimai_oracle.py; Debian package; root + apt-get only).
sisimai:
	@perl -MSisimai -e1 >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsisimai-perl; } \
		|| echo "libsisimai-perl unavailable: the Sisimai oracle test will skip"

# Re-install whenever a lock changes; the stamp makes `make install` idempotent. Every
# package comes from the locks with its hash checked (--require-hashes): what is installed
# is what was reviewed, not whatever is newest today. ghostwatch itself is installed
# editable, built by the locked setuptools (--no-build-isolation: nothing unlocked).
$(STAMP): pyproject.toml $(LOCKS) .python-version
	@$(PYTHON) -c 'import sys; v = "%d.%d" % sys.version_info[:2]; \
		sys.exit(v != "$(PYTHON_MINOR)" and f"ghostwatch is built and tested on Python $(PYTHON_MINOR) \
		(.python-version), and $(PYTHON) is {v}: run make PYTHON=python$(PYTHON_MINOR) install" or 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/build.lock
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The locks, from pyproject.toml (and requirements/build.in): `make lock` after changing a
# dependency keeps every other pin; `make lock-upgrade` moves every pin to the newest
# release (what Renovate's weekly lock maintenance does, renovate.json). Review the diff.
lock: install
	$(UV_COMPILE) requirements/build.in -o requirements/build.lock $(UV_ARGS)
	$(UV_COMPILE) pyproject.toml -o requirements/runtime.lock $(UV_ARGS)
	$(UV_COMPILE) pyproject.toml --extra dev -o requirements/dev.lock $(UV_ARGS)

lock-upgrade:
	$(MAKE) lock UV_ARGS=--upgrade

DEMO_ARGS := --maildir examples/mailbox --me alex@ghostwatch.example \
	--now 2026-11-20T15:00:00+00:00 --tz Europe/London

# The real daemon, once (`ghostwatch run --once`), against a Gmail and a Graph sandbox
# seeded with examples/mailbox; then what it did, read back from the sandboxes.
demo: install
	$(BIN)/ghostwatch scan $(DEMO_ARGS)
	@if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then \
		echo; echo "The same mailbox through a real Dovecot and the IMAP provider:"; \
		$(BIN)/ghostwatch scan $(DEMO_ARGS) --through imap; fi
	@echo
	$(BIN)/python -m ghostwatch_sandbox.playground.demo --mailbox examples/mailbox --out out/demo

# The README's picture of the digest, docs/digest.png: the demo's digest (the daemon once
# against the sandboxes, as `make demo`), drawn by headless Chromium. Run it whenever the
# digest changes and commit the picture: tests/system/test_digest_browser.py fails while
# the picture is not what the code draws.
docs-image: install browser
	$(BIN)/python -m ghostwatch_sandbox.playground.docs_image --out out/demo --png docs/digest.png

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
# The architecture's import rules ([tool.importlinter] in pyproject.toml; docs/architecture.md).
	$(BIN)/lint-imports
# Security lint: zero findings; skips and `# nosec` carry their reason ([tool.bandit]).
	$(BIN)/bandit --quiet --configfile pyproject.toml --recursive src
# Deployment files (no Docker engine or cluster needed; schemas ship inside the packages).
	$(BIN)/hadolint Dockerfile
	$(BIN)/yamllint --strict deploy .yamllint .hadolint.yaml
	$(BIN)/kubernetes-validate --strict --quiet deploy/k8s/*.yaml deploy/k8s-replicas/*.yaml
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec deploy/docker-compose.yml \
		deploy/docker-compose.replicas.yml

typecheck: install
	$(BIN)/mypy src tests benchmarks

pytest: install browser sisimai
	$(BIN)/pytest -n 2 -q

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/scan_maildir.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
