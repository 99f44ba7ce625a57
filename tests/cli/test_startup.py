"""Start-up: a command's help loads nothing heavy, and shell completion works (the real command)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cli.conftest import Cli

# what a --help must not load: the work of the commands (figures: benchmarks/bench_startup.py)
HEAVY = ["numpy", "websockets", "textual", "soxr", "sounddevice", "soundfile", "av", "voicecli.session",
         "voicecli.audio", "voicecli.transport", "voicecli.agent", "voicecli.tui", "voicecli.protocol"]

PROBE = """
import json, sys
from voicecli.cli.main import main
args, heavy = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv = ["voicecli", *args]
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules]}),
      file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["smoke", "--help"], ["talk", "--help"], ["serve", "--help"],
                                  ["devices", "--help"], ["--version"]])
def test_help_loads_none_of_the_work(cli: Cli, args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
                          capture_output=True, text=True, env=cli.env, timeout=60)
    result = json.loads(proc.stderr.strip().splitlines()[-1])
    assert result == {"code": 0, "loaded": []}, proc.stderr
    assert "Usage: voicecli" in proc.stdout or proc.stdout.startswith("voicecli ")


def test_help_lists_every_command(cli: Cli) -> None:
    out = cli.run("--help").stdout
    for command in ("talk", "smoke", "serve", "devices"):
        assert f"  {command} " in out, out
    assert "--install-completion" in out and "--show-completion" in out


@pytest.mark.parametrize(("words", "cword", "expected"), [("voicecli sm", 1, ["smoke"]),
                                                          ("voicecli smoke --dia", 2, ["--dialect"]),
                                                          ("voicecli serve --voice", 2, ["--voiceagent-auth"])])
def test_shell_completion(cli: Cli, words: str, cword: int, expected: list[str]) -> None:
    proc = cli.run(extra_env={"_VOICECLI_COMPLETE": "complete_bash", "COMP_WORDS": words,
                              "COMP_CWORD": str(cword)})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == expected


def test_completion_script_for_bash(cli: Cli) -> None:
    # Typer detects the shell from the process tree (shellingham), which a test worker's is
    # not always: it failed once in a whole run ("Shell  not supported."). Its own test switch
    # makes the option take the shell named here instead, in a process of its own (the switch
    # is read when the app is built)
    proc = cli.run("--show-completion", "bash", process=True,
                   extra_env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert proc.returncode == 0, proc.stderr
    assert "_VOICECLI_COMPLETE=complete_bash" in proc.stdout and "complete -o default" in proc.stdout
