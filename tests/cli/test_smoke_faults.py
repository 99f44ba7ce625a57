"""Each fault the local agent can inject: a clear one-line message, the right exit code,
no traceback."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli


def ws(agent_url: str, fault: str) -> str:
    return agent_url.replace("http://", "ws://") + f"/atoms/v1/agent/connect?fault={fault}"


@pytest.mark.parametrize(("fault", "code", "message"), [
    ("close:4000@1", 7, "voicecli: error: atoms closed the session (code 4000): injected fault"),
    ("close:4403@1", 4, "voicecli: error: atoms closed the session (code 4403): injected fault"),
    ("close:1011@1", 7, "voicecli: error: atoms closed the connection unexpectedly (code 1011: injected fault)"),
    ("error@1", 7, "voicecli: error: atoms closed the session (code 4000): "),
    ("drop@1", 6, "voicecli: error: the connection to the atoms server was lost (no close frame)"),
    ("reject:503", 6, "voicecli: error: the atoms server is unavailable (HTTP 503); try again later"),
    ("stall@1", 8, "voicecli: error: timed out after 4 s waiting for the reply to turn 1"),
    ("close:1000@1", 7, "voicecli: error: the session ended before turn 1: closed (code 1000)"),
    ("close:1000@4", 7, "voicecli: error: the session ended during turn 1: closed (code 1000)"),
])
def test_fault(cli: Cli, agent_url: str, fault: str, code: int, message: str) -> None:
    proc = cli.run("smoke", "--url", ws(agent_url, fault), "--agent", "agent_1", "--text", "hi",
                   "--timeout", "4")
    assert proc.returncode == code, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(message), last
    assert "Traceback" not in proc.stderr


def test_malformed_frame_is_reported_and_the_session_goes_on(cli: Cli, agent_url: str) -> None:
    proc = cli.run("smoke", "--url", ws(agent_url, "malformed@1"), "--agent", "agent_1", "--text", "hi")
    assert proc.returncode == 0, proc.stderr
    assert "voicecli: warning: ignored a malformed <invalid json> frame from the server" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_session_closed_mid_reply_never_passes(cli: Cli, agent_url: str) -> None:
    """The review's case: closed cleanly half way through the reply used to report ok."""
    proc, report = cli.smoke_json("--url", ws(agent_url, "close:1000@6"), "--agent", "agent_1",
                                  "--text", "what is 12 plus 7")
    assert proc.returncode == 7 and report["ok"] is False and report["exit_code"] == 7
    assert report["turns"][0]["answered"] is False and report["turns"][0]["agent_audio_s"] > 0
    assert report["error"].startswith("the session ended during turn 1")
