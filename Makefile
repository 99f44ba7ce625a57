# voicecli developer commands. `make demo` and `make test` each run `make setup` first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3
APT_PACKAGES := libportaudio2 pulseaudio libasound2-plugins tmux espeak-ng
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# the node test peer (the official ElevenLabs JS client), pinned by its package-lock.json
JS_PEER := tests/conformance/js
JS_STAMP := $(JS_PEER)/node_modules/.installed-$(shell cat $(JS_PEER)/package-lock.json | cksum | cut -d' ' -f1)

.PHONY: setup system-deps venv js-peer test test-fast lint bench demo serve clean

setup: system-deps venv js-peer

# Debian packages: installed when running as root, otherwise the exact command is printed.
system-deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
		echo "setup: not a Debian system; install PortAudio (and PulseAudio, tmux, Node.js 18+ and npm for the tests) with your package manager"; \
	else \
		missing=""; \
		for p in $(APT_PACKAGES); do \
			dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
		done; \
		{ command -v node && command -v npm; } >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
		if [ -n "$$missing" ]; then \
			if [ "$$(id -u)" = "0" ]; then \
				echo "setup: installing$$missing"; \
				apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing >/dev/null; \
			else \
				echo "setup: missing Debian packages. Run:"; \
				echo "  sudo apt-get install -y$$missing"; \
				exit 1; \
			fi; \
		fi; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PIP) install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	@$(PIP) install -q -e '.[local,dev]' 2>&1 | grep -v "^WARNING: Location" || true
	@$(PY) -c "import voicecli, pocketsphinx, hibari" || { echo "setup: the Python install failed"; exit 1; }
	@rm -f $(VENV)/.installed-*
	@touch $@

js-peer: $(JS_STAMP)

$(JS_STAMP): $(JS_PEER)/package.json $(JS_PEER)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "setup: npm not found: the JS client conformance tests will fail; install Node.js 18+ and npm (Debian: apt-get install nodejs npm)"; \
	else \
		cd $(JS_PEER) && npm ci --loglevel=error >/dev/null || { echo "setup: npm ci in $(JS_PEER) failed"; exit 1; }; \
		touch $(CURDIR)/$@; \
	fi

# The suite runs in parallel: most tests wait on sockets, subprocesses and paced audio rather
# than the CPU, so more workers than cores pay off. Tests sharing a `xdist_group` run on one
# worker. `make test` runs every marker (pulse, tmux, realtime included); `make test-fast`
# leaves out the PulseAudio bed, tmux and the real-time runs, for development.
JOBS ?= 6
PYTEST := $(PY) -m pytest -q -p no:cacheprovider -n $(JOBS) --dist loadgroup

test: setup
	$(PYTEST)

test-fast: setup
	$(PYTEST) -m "not pulse and not tmux and not realtime"

lint: setup
	$(VENV)/bin/ruff check voicecli tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m benchmarks.run

demo: setup
	$(VENV)/bin/voicecli talk

serve: setup
	$(VENV)/bin/voicecli serve

clean:
	rm -rf $(VENV) $(JS_PEER)/node_modules .bench .pytest_cache .mypy_cache .ruff_cache *.egg-info
