# Every install step lives here, so a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install browser sisimai demo test lint typecheck pytest bench clean

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

# Re-install whenever the dependency list changes; the stamp makes `make install` idempotent.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "ghostwatch needs Python >= 3.11" or 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

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
	$(BIN)/kubernetes-validate --strict --quiet deploy/k8s/*.yaml
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec deploy/docker-compose.yml

typecheck: install
	$(BIN)/mypy src tests benchmarks

pytest: install browser sisimai
	$(BIN)/pytest -n 2 -q

test: lint typecheck pytest

bench: install
	$(BIN)/python benchmarks/scan_maildir.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
