"""Leaving ``voicecli talk`` in a real terminal (tmux): the conversation and its summary stay
on the normal screen, Ctrl+C exits 130 (at once while a connect stalls), and errors found
before connecting never start the full-screen app."""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import silent_server
from tests.support.terminal import PROMPT, Tmux, open_tmux, short_dir, voicecli_command
from tests.support.waiting import patience
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread

pytestmark = pytest.mark.tmux
ALT_SCREEN_ON = "\x1b[?1049h"
CONNECT_S = 45  # the embedded agent loads its speech models; the machine may be busy


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with open_tmux(tmp_path, {"COLUMNS": "", "LINES": ""}) as term:
        yield term


def _talk(*args: str) -> str:
    return " ".join(shlex.quote(part) for part in [*voicecli_command(), "talk", "--no-audio", *args])


def _exited(tmux: Tmux, timeout: float = 20) -> str:
    return tmux.wait_for(lambda s: re.search(r"EXIT=\d+", s) is not None, "the app to exit", timeout=timeout)


def _alternate(tmux: Tmux) -> bool:
    return tmux.run("display-message", "-p", "-t", "talk", "#{alternate_on}").strip() == "1"


def test_ctrl_c_leaves_the_conversation_and_its_summary_on_screen_and_exits_130(tmux: Tmux) -> None:
    tmux.send("clear; " + _talk() + "; echo EXIT=$?", "Enter")
    tmux.wait_for(lambda s: "connected: type a message" in s, "the app to connect", timeout=CONNECT_S)
    tmux.send("what is 12 plus 7")
    tmux.send("Enter")
    tmux.wait_for(lambda s: "12 plus 7 is 19." in s, "the agent's reply")
    tmux.send("C-c")
    screen = _exited(tmux)
    assert "EXIT=130" in screen and not _alternate(tmux)
    lines = [line.rstrip() for line in screen.splitlines() if line.strip()]
    you = next(i for i, line in enumerate(lines) if re.fullmatch(r"\d\d:\d\d:\d\d You\s+what is 12 plus 7", line))
    assert any(re.fullmatch(r"\d\d:\d\d:\d\d Agent\s+.*12 plus 7 is 19\.", line) for line in lines[you:]), lines
    rule = next(i for i, line in enumerate(lines) if "session summary" in line)
    assert rule > you
    summary = lines[rule + 1:]
    assert re.fullmatch(r"\d+ s · 1 user turn · [12] agent turns?", summary[0]), summary
    assert re.fullmatch(r"reply latency p50 \d+ ms · p95 \d+ ms \(1 reply\)", summary[1]), summary
    assert summary[2].startswith("transcript saved to ") and summary[2].endswith("-atoms.jsonl")
    assert Path(summary[2].split(" saved to ", 1)[1]).exists()
    assert "\x1b" not in screen and "Traceback" not in screen
    assert lines[-1].startswith(PROMPT)


@pytest.fixture(name="silent_server")
def silent_server_port() -> Iterator[int]:
    """Accepts TCP connections and never answers the WebSocket handshake."""
    with silent_server() as port:
        yield port


def test_the_first_ctrl_c_during_a_stalled_connect_exits_at_once_with_130(tmux: Tmux, silent_server: int) -> None:
    command = _talk("--url", f"http://127.0.0.1:{silent_server}", "--agent", "a1", "--timeout", "60")
    tmux.send(f"clear; SMALLEST_API_KEY=sk_test_key {command} 2>&1; echo EXIT=$? AT=$(date +%s.%N)", "Enter")
    tmux.wait_for(lambda s: "connecting" in s and _alternate(tmux), "the app to show it is connecting")
    time.sleep(0.3)  # the connect is under way (the server holds it)
    pressed = time.time()
    tmux.send("C-c")
    screen = tmux.wait_for(lambda s: "AT=" in s, "the app to exit", timeout=10)
    took = float(screen.split("AT=", 1)[1].split()[0]) - pressed  # when the shell had the prompt back
    # it does not wait out the connect (--timeout 60); how quickly it leaves (about 0.3 s on an
    # idle machine) is the benchmark's: `python -m benchmarks.run exit`, ctrl_c_connect_exit_s
    assert took < patience(10), f"took {took:.2f} s"
    assert "EXIT=130" in screen
    errors = [line for line in screen.splitlines() if line.startswith("voicecli: ")]
    assert errors == ["voicecli: error: interrupted while connecting"], screen


@pytest.mark.parametrize(("args", "code", "message"), [
    (("--sample-rate", "12345"), 2, "atoms supports sample rates 8000, 16000, 24000, 48000; got 12345"),
    (("--url", "http://127.0.0.1:9", "--agent", "a1"), 3,
     "no API key: set the environment variable SMALLEST_API_KEY"),
    (("--record", "/proc/version/x"), 2, "--record /proc/version/x: /proc/version is not a directory"),
    (("--timeout", "0"), 2, "--timeout must be a number of seconds, more than 0"),
    (("--log-file", "/proc/version/x.log"), 2, "--log-file /proc/version/x.log: /proc/version is not a directory"),
])
def test_errors_found_before_connecting_never_start_the_app(tmux: Tmux, tmp_path: Path, args: tuple[str, ...],
                                                            code: int, message: str) -> None:
    raw = tmp_path / "pane.raw"
    tmux.run("pipe-pane", "-t", "talk", "-o", f"cat >> {shlex.quote(str(raw))}")
    tmux.send("clear; env -u SMALLEST_API_KEY " + _talk(*args) + "; echo EXIT=$?", "Enter")
    screen = _exited(tmux)
    assert f"EXIT={code}" in screen
    errors = [line for line in screen.splitlines() if line.startswith("voicecli: ")]
    assert len(errors) == 1 and errors[0].startswith(f"voicecli: error: {message}"), screen
    tmux.run("pipe-pane", "-t", "talk")  # stop logging: everything the pane got is in the file
    output = raw.read_text(errors="replace")
    assert "EXIT=" in output and ALT_SCREEN_ON not in output  # the full-screen app never started


def test_a_handshake_error_shows_in_the_app_then_exits_with_its_code(tmux: Tmux, tmp_path: Path) -> None:
    url, stop = start_in_thread(AgentConfig(api_key="sk_right_key", speech=False, brain="echo", greeting=""))
    raw = tmp_path / "pane.raw"
    try:
        tmux.run("pipe-pane", "-t", "talk", "-o", f"cat >> {shlex.quote(str(raw))}")
        tmux.send(f"clear; SMALLEST_API_KEY=sk_wrong_key {_talk('--url', url, '--agent', 'a1')} 2>&1; "
                  "echo EXIT=$?", "Enter")
        tmux.wait_for(lambda s: "cannot connect" in s and _alternate(tmux), "the error in the app")
        screen = _exited(tmux)
    finally:
        stop()
    assert "EXIT=4" in screen and not _alternate(tmux)
    errors = [line for line in screen.splitlines() if line.startswith("voicecli: ")]
    assert len(errors) == 1 and errors[0].startswith("voicecli: error: "), screen
    assert "sk_wrong_key" not in screen


def test_debug_logs_go_to_a_file_never_to_the_terminal(tmux: Tmux, tmp_path: Path) -> None:
    state = tmp_path / "state"
    raw = tmp_path / "pane.raw"
    tmux.run("pipe-pane", "-t", "talk", "-o", f"cat >> {shlex.quote(str(raw))}")
    tmux.send(f"clear; XDG_STATE_HOME={shlex.quote(str(state))} VOICECLI_LOG=debug {_talk()}; echo EXIT=$?",
              "Enter")
    tmux.wait_for(lambda s: "connected: type a message" in s, "the app to connect", timeout=CONNECT_S)
    tmux.send("/quit")
    tmux.send("Enter")
    screen = _exited(tmux)
    tmux.run("pipe-pane", "-t", "talk")
    assert "EXIT=0" in screen
    log = state / "voicecli" / "log" / "voicecli.log"
    logged = log.read_text()
    assert " voicecli.agent.server INFO local agent listening on " in logged and " DEBUG " in logged
    assert "sk_local_embedded" not in logged  # keys redacted as everywhere
    assert f"log: {log}" in [line.rstrip() for line in screen.splitlines()]  # named at exit
    output = raw.read_text(errors="replace")
    assert " DEBUG " not in output and " INFO " not in output  # nothing of the log reached the terminal


def test_talk_timeout_bounds_a_stalled_connect(tmux: Tmux, silent_server: int) -> None:
    command = _talk("--url", f"http://127.0.0.1:{silent_server}", "--agent", "a1", "--timeout", "1")
    tmux.send(f"clear; SMALLEST_API_KEY=sk_test_key {command} 2>&1; echo EXIT=$?", "Enter")
    screen = _exited(tmux, timeout=15)  # well before the default 10 s connect timeout plus start-up
    assert "EXIT=8" in screen
    errors = [line for line in screen.splitlines() if line.startswith("voicecli: ")]
    assert errors == [f"voicecli: error: timed out connecting to ws://127.0.0.1:{silent_server} after 1 s"], errors


def test_record_in_text_only_mode_says_there_is_no_audio(tmux: Tmux, tmp_path: Path) -> None:
    with short_dir() as folder:
        calls = folder / "calls"
        tmux.send("clear; " + _talk("--record", str(calls)) + "; echo EXIT=$?", "Enter")
        screen = tmux.wait_for(lambda s: "connected: type a message" in s, "the app to connect", timeout=CONNECT_S)
        assert re.search(r"recording to \S+/calls/voicecli-\S+\.wav", screen), screen
        assert "(text only: there is no audio to record)" in screen, screen  # the pane may wrap it
        tmux.send("/quit")
        tmux.send("Enter")
        screen = _exited(tmux)
        assert "EXIT=0" in screen and "recording saved to" not in screen  # no WAV was written
        saved = next(line for line in screen.splitlines() if line.startswith("transcript saved to "))
        assert Path(saved.split(" saved to ", 1)[1].strip()).parent == calls
