"""``smoke --retries N``: transient failures before the first turn are retried (and told as
warnings); a failure during a turn is never retried nor hidden."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading

from tests.cli.conftest import TEST_KEY, Cli
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread

SERVER_LOG = "voicecli.agent.server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def agent_config(faults: str | None = None) -> AgentConfig:
    return AgentConfig(api_key=TEST_KEY, agent_ids={"agent_1"}, greeting="", speech=False, brain="rules",
                       allow_faults=True, faults=faults)


class Refusals(logging.Handler):
    """Tells when the local agent refused an upgrade (its log line), across threads."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("refused WebSocket"):
            self.seen.set()


def test_a_503_server_that_recovers_is_retried(cli: Cli) -> None:
    port = free_port()
    refusals = Refusals()
    server_log = logging.getLogger(SERVER_LOG)
    server_log.addHandler(refusals)
    level = server_log.level
    server_log.setLevel(logging.INFO)
    url, stop = start_in_thread(agent_config("reject:503"), port=port)
    proc = subprocess.Popen([sys.executable, "-m", "voicecli", "smoke", "--json", "--url", url, "--agent", "agent_1",
                             "--text", "what is 12 plus 7", "--retries", "5", "--retry-delay", "1",
                             "--timeout", "40"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli.env)
    try:
        assert refusals.seen.wait(30), "the first try never reached the server"
        stop()  # the draining server goes; a healthy one takes its port
        _url, stop = start_in_thread(agent_config(), port=port)
        out, err = proc.communicate(timeout=60)
    finally:
        stop()
        server_log.removeHandler(refusals)
        server_log.setLevel(level)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert '"ok": true' in out and "12 plus 7 is 19." in out
    retries = [line for line in err.splitlines() if line.startswith("voicecli: warning: retry ")]
    assert retries and retries[0].startswith("voicecli: warning: retry 1/5 after: "), err
    assert any("(HTTP 503)" in line for line in retries), retries


def test_a_drop_during_the_turn_is_not_retried(cli: Cli, agent_url: str) -> None:
    ws = agent_url.replace("http://", "ws://") + "/atoms/v1/agent/connect?fault=drop@2"
    proc, report = cli.smoke_json("--url", ws, "--agent", "agent_1", "--text", "hi", "--retries", "3",
                                  "--retry-delay", "0.05", "--timeout", "20")
    assert proc.returncode == 6, proc.stderr
    assert not report["ok"] and report["exit_code"] == 6
    assert report["error"] == "the connection to the atoms server was lost (no close frame) (during turn 1)"
    assert not any(w.startswith("retry ") for w in report["warnings"]), report["warnings"]
    assert "Traceback" not in proc.stderr


def test_without_retries_a_503_fails_at_once(cli: Cli, agent_url: str) -> None:
    ws = agent_url.replace("http://", "ws://") + "/atoms/v1/agent/connect?fault=reject:503"
    proc = cli.run("smoke", "--url", ws, "--agent", "agent_1", "--text", "hi", "--timeout", "20")
    assert proc.returncode == 6
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "voicecli: error: the atoms server is unavailable (HTTP 503)")
    assert "retry" not in proc.stderr


def test_bad_retries_are_usage_errors(cli: Cli) -> None:
    for args in (("--retries", "-1"), ("--retries", "2", "--retry-delay", "inf")):
        proc = cli.run("smoke", "--text", "hi", *args)
        assert proc.returncode == 2, proc.stderr
        (line,) = proc.stderr.strip().splitlines()
        assert line.startswith("voicecli: error: --retries/--retry-delay: "), line
