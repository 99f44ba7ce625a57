"""``voicecli serve`` as a process: it binds before it prints (a busy port shows no key),
its banner's connect commands work as printed, each session is logged in one line, and
Ctrl+C closes the clients with 1001 (going away)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.cli.conftest import Cli
from tests.support.waiting import patience

SERVE = [sys.executable, "-m", "voicecli", "serve", "--no-speech", "--brain", "echo", "--greeting", ""]
ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_LOCAL_KEY")) and k != "VOICECLI_LOG"}


def _banner(proc: subprocess.Popen[str]) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    while not lines or not lines[-1].startswith("  SMALLEST_API_KEY="):
        line = proc.stdout.readline()
        assert line, f"the banner ended early: {lines}"
        lines.append(line.rstrip("\n"))
    return lines


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    proc = subprocess.Popen([*SERVE, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())
    try:
        yield proc, _banner(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_a_busy_port_fails_in_one_line_before_any_key_is_printed() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*SERVE, "--port", str(port)], capture_output=True, text=True, env=_env(),
                                timeout=60)
    assert result.returncode == 6
    assert result.stdout == ""  # no banner, no key
    assert result.stderr.splitlines() == [f"voicecli: error: cannot listen on 127.0.0.1:{port}: "
                                          "address already in use"]


def test_the_banner_commands_connect_and_sessions_are_logged_then_closed_with_1001(
        served: tuple[subprocess.Popen[str], list[str]], tmp_path: Path) -> None:
    proc, lines = served
    key = next(line for line in lines if line.startswith("API key for this server: ")).rsplit(" ", 1)[1]
    url = next(line for line in lines if "listening on" in line).rsplit(" ", 1)[1]
    assert lines.index(f"API key for this server: {key}") < lines.index(f"voicecli local agent listening on {url}")
    profile_cmd = f"  VOICECLI_LOCAL_KEY={key} voicecli talk --profile local --url {url}"
    plain_cmd = f"  SMALLEST_API_KEY={key} voicecli talk --url {url} --agent local"
    assert profile_cmd in lines and plain_cmd in lines, lines
    # each printed command connects as printed (smoke takes the same options as talk)
    config = tmp_path / "config" / "voicecli"
    config.mkdir(parents=True)
    shutil.copy(ROOT / "config.example.toml", config / "config.toml")
    env = {**_env(), "XDG_CONFIG_HOME": str(tmp_path / "config"), "NO_COLOR": "1"}
    for line in (profile_cmd, plain_cmd):
        words = shlex.split(line)
        variable, value = words[0].split("=", 1)
        args = words[3:]  # after "voicecli talk"
        done, report = Cli({**env, variable: value}).smoke_json(*args, "--text", "hello", timeout=90)
        assert done.returncode == 0 and report["ok"], done.stdout + done.stderr
    # a wrong key is refused, and logged so
    wrong = url.replace("http://", "ws://") + "/atoms/v1/agent/connect?agent_id=local&token=sk_wrong_key_1"
    with pytest.raises(Exception):  # noqa: B017, PT011 - the upgrade is refused (HTTP 401)
        connect(wrong).close()
    # a client still connected hears the server go away
    ws_url = url.replace("http://", "ws://") + f"/atoms/v1/agent/connect?agent_id=local&token={key}"
    with connect(ws_url) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
        local_port = ws.socket.getsockname()[1]
        proc.send_signal(signal.SIGINT)
        with pytest.raises(Exception):  # noqa: B017, PT011 - the connection ends; the code says how
            while True:
                ws.recv(timeout=patience(10))
        assert ws.protocol.close_rcvd is not None and ws.protocol.close_rcvd.code == 1001
    assert proc.wait(patience(10)) == 0
    assert proc.stderr is not None
    log = proc.stderr.read()
    assert key not in log
    sessions = [line for line in log.splitlines() if " session from " in line]
    assert len(sessions) == 3, log
    refused = [line for line in log.splitlines() if line.startswith("refused WebSocket ")]
    assert len(refused) == 1 and re.fullmatch(r"refused WebSocket /atoms/v1/agent/connect from 127\.0\.0\.1:\d+: "
                                               r"401 .*", refused[0]), log
    assert "sk_wrong_key_1" not in log
    assert re.fullmatch(r"atoms session from 127\.0\.0\.1:\d+ closed: close code 1000", sessions[0]), sessions
    assert sessions[-1] == f"atoms session from 127.0.0.1:{local_port} closed: close code 1001"
