"""``voicecli serve`` as a process, and the in-process helpers the CLI uses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.support.waiting import patience
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread

SERVE = "from voicecli.cli.serve import serve_command; import sys; sys.exit(serve_command(**{args}))"


def _start(args: str, env: dict[str, str]) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen([sys.executable, "-c", SERVE.format(args=args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    lines: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
        if "listening on" in line:
            return proc, lines
    proc.kill()
    raise AssertionError(f"server did not start: {lines} {proc.stderr.read() if proc.stderr else ''}")


def _url(lines: list[str]) -> str:
    return next(line for line in lines if "listening on" in line).split()[-1]


def _stop(proc: subprocess.Popen[str], sig: signal.Signals) -> int:
    """Sends ``sig`` and waits for the exit code; a server that does not exit is killed (a
    failing test leaves no server behind) and the wait's timeout raised."""
    proc.send_signal(sig)
    try:
        return proc.wait(patience(10))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_serve_with_key_from_env_and_ctrl_c() -> None:
    args = "dict(port=0, api_key_env='VOICECLI_TEST_SERVE_KEY', brain='echo', speech=False, greeting='')"
    proc, lines = _start(args, {"VOICECLI_TEST_SERVE_KEY": "sk_from_env"})
    try:
        assert not any("API key for this server" in line for line in lines)
        ws_base = _url(lines).replace("http://", "ws://") + "/atoms/v1/agent/connect?agent_id=a"
        with connect(ws_base, additional_headers={"Authorization": "Bearer sk_from_env"}) as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
        with pytest.raises(InvalidStatus):
            connect(ws_base, additional_headers={"Authorization": "Bearer sk_wrong"})
    finally:
        code = _stop(proc, signal.SIGINT)
    assert code == 0


def test_serve_without_key_env_prints_a_random_key_and_stops_on_sigterm() -> None:
    proc, lines = _start("dict(port=0, brain='echo', speech=False)", {})
    try:
        key_line = next(line for line in lines if line.startswith("API key for this server: "))
        key = key_line.rsplit(" ", 1)[-1]
        assert key.startswith("sk_local_") and len(key) > 20
        url = _url(lines).replace("http://", "ws://") + f"/atoms/v1/agent/connect?agent_id=a&token={key}"
        with connect(url) as ws:
            assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
    finally:
        code = _stop(proc, signal.SIGTERM)
    assert code == 0


def test_serve_refuses_an_empty_key_env() -> None:
    from voicecli.cli.serve import serve_command

    os.environ.pop("VOICECLI_TEST_UNSET", None)
    assert serve_command(port=0, api_key_env="VOICECLI_TEST_UNSET") == 3
    assert serve_command(port=0, faults="explode") == 2
    assert serve_command(port=0, brain="llm") == 2  # needs --llm-url and --llm-model
    assert serve_command(port=0, brain="oracle") == 2


def test_start_in_thread_for_sync_callers() -> None:
    url, stop = start_in_thread(AgentConfig(brain="echo", speech=False, greeting=""))
    try:
        ws_url = url.replace("http://", "ws://") + "/atoms/v1/agent/connect?agent_id=anything"
        with connect(ws_url) as ws:  # the embedded default needs no key
            assert json.loads(ws.recv(timeout=5))["type"] == "session.created"
            ws.send(json.dumps({"type": "input_text.send", "text": "sync"}))
            kinds = []
            while "transcript" not in kinds:
                kinds.append(json.loads(ws.recv(timeout=5))["type"])
    finally:
        stop()
    stop()  # idempotent
    with pytest.raises(OSError):
        connect(ws_url, open_timeout=2)


def test_serve_voiceagent_auth_flag() -> None:
    from typer.testing import CliRunner

    from voicecli.cli.main import app

    help_text = CliRunner().invoke(app, ["serve", "--help"], terminal_width=200).output
    assert "--voiceagent-auth" in help_text and "Bearer" in help_text
    proc = subprocess.Popen([sys.executable, "-m", "voicecli", "serve", "--port", "0", "--brain", "echo",
                             "--no-speech", "--greeting", "", "--api-key-env", "VOICECLI_TEST_SERVE_KEY",
                             "--voiceagent-auth"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "VOICECLI_TEST_SERVE_KEY": "sk_va"})
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip()]
        while "listening on" not in lines[-1] and lines[-1]:
            lines.append(proc.stdout.readline().strip())
        url = _url(lines).replace("http://", "ws://") + "/voiceagent"
        with pytest.raises(InvalidStatus) as info:
            connect(url)
        assert info.value.response.status_code == 401
        with connect(url, additional_headers={"Authorization": "Bearer sk_va"}) as ws:
            ws.send(json.dumps({"type": "transcript", "text": "hi"}))
            kinds = []
            while "response_complete" not in kinds:
                kinds.append(json.loads(ws.recv(timeout=5))["type"])
    finally:
        code = _stop(proc, signal.SIGINT)
    assert code == 0
