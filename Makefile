# voicecli developer commands. `make demo` and `make test` each run `make setup` first.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3
APT_PACKAGES := libportaudio2 pulseaudio libasound2-plugins tmux
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: setup system-deps venv test lint bench demo serve clean

setup: system-deps venv

# Debian packages: installed when running as root, otherwise the exact command is printed.
system-deps:
	@if ! command -v dpkg-query >/dev/null 2>&1; then \
		echo "setup: not a Debian system; install PortAudio (and PulseAudio + tmux for the tests) with your package manager"; \
	else \
		missing=""; \
		for p in $(APT_PACKAGES); do \
			dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
		done; \
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

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

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
	rm -rf $(VENV) .bench .pytest_cache .mypy_cache .ruff_cache *.egg-info
