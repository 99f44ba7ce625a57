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

.PHONY: setup system-deps venv js-peer test test-fast test-min test-matrix lint bench demo serve clean

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
	@$(PIP) install -q -e '.[local,voiceagent-codecs,aec,dev]' 2>&1 | grep -v "^WARNING: Location" || true
	@$(PY) -c "import voicecli, pocketsphinx, hibari, av, livekit.rtc" || { echo "setup: the Python install failed"; exit 1; }
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
# worker; the groups start first, then the tests that wait in real time (tests/conftest.py).
# `make test` runs every marker (pulse, tmux, realtime included); `make test-fast` leaves out
# the PulseAudio bed, tmux and the real-time runs, for development. Bytecode is written even
# where PYTHONDONTWRITEBYTECODE is set: otherwise every worker, and every `voicecli` process a
# test starts, compiles the project and rewrites the tests' asserts again (3-4 s of CPU each).
JOBS ?= 8
PYTEST := PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -p no:cacheprovider -n $(JOBS) --dist loadgroup

test: setup
	$(PYTEST)

test-fast: setup
	$(PYTEST) -m "not pulse and not tmux and not realtime"

# The dependency floors: a second venv with every runtime dependency (and the extras) at the
# lowest version pyproject.toml allows (uv's lowest-direct resolution; the test tools at their
# latest), then the tests that exercise those libraries: the CLI, the wire (websockets client
# and server), the TUI (textual; its snapshots are drawn by the newest textual, so not here),
# config, codecs; like test-fast, without the PulseAudio bed, tmux and the real-time runs.
# Idempotent: the pins are recomputed and the venv brought to them; uv never downloads an
# interpreter here.
MIN_VENV ?= .venv-min
MIN_TESTS ?= tests/cli tests/transport tests/protocol tests/audio/test_codecs.py tests/tui \
	tests/agent_dialects tests/test_secrets.py
MIN_DESELECT ?= -m "not pulse and not tmux and not realtime" --ignore=tests/tui/test_snapshots.py
MIN_UV := UV_PYTHON_DOWNLOADS=never $(MIN_VENV)/bin/uv
test-min: system-deps
	@$(MIN_VENV)/bin/python -c "" 2>/dev/null || { rm -rf $(MIN_VENV) && $(PYTHON) -m venv $(MIN_VENV); }
	@test -x $(MIN_VENV)/bin/uv || $(MIN_VENV)/bin/pip install -q uv 2>&1 | grep -v "^WARNING: Location" || true
	@test -x $(MIN_VENV)/bin/uv || { echo "test-min: uv did not install"; exit 1; }
	$(MIN_UV) pip compile -q pyproject.toml --extra local --extra voiceagent-codecs \
		--resolution lowest-direct --python $(MIN_VENV)/bin/python -o $(MIN_VENV)/floors.txt
	$(MIN_UV) pip install -q --python $(MIN_VENV)/bin/python -c $(MIN_VENV)/floors.txt \
		-e '.[local,voiceagent-codecs,dev]'
	@grep -E '^(typer|textual|websockets|numpy|rich|pydantic|av|soxr|soundfile|sounddevice|platformdirs)==' \
		$(MIN_VENV)/floors.txt | tr '\n' ' '; echo
	$(MIN_VENV)/bin/python -m pytest -q -p no:cacheprovider -n $(JOBS) --dist loadgroup $(MIN_DESELECT) $(MIN_TESTS)

# The suite on each Python of PYTHONS (versions: 3.11 3.12 3.13), in a venv per interpreter
# (.venv-X.Y), by .ci/python-matrix: interpreters are the machine's own (on PATH, pyenv's or
# uv's; never downloaded); a missing one is reported, and fails the job under CI=true.
# MATRIX_TESTS narrows the run (default: test-fast's subset).
PYTHONS ?= 3.11 3.12 3.13
MATRIX_TESTS ?= -m "not pulse and not tmux and not realtime"
test-matrix: system-deps js-peer
	PYTHONS="$(PYTHONS)" JOBS=$(JOBS) .ci/python-matrix $(MATRIX_TESTS)

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
	rm -rf $(VENV) $(MIN_VENV) .venv-3.* $(JS_PEER)/node_modules .bench .pytest_cache .mypy_cache .ruff_cache *.egg-info
