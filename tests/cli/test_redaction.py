"""A distinctive key must appear in no output, log line or file."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli
from voicecli.agent.config import AgentConfig
from voicecli.agent.server import start_in_thread

KEY = "sk_DISTINCTIVE_redact_7f3a9c"


def files_text(root: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in root.rglob("*") if p.is_file())


def test_key_never_printed_logged_or_written(cli: Cli, tmp_path: Path) -> None:
    url, stop = start_in_thread(AgentConfig(api_key=KEY, greeting="", speech=False, brain="echo"))
    try:
        config = tmp_path / "config.toml"
        config.write_text(f'[profiles.q]\ndialect = "atoms"\nurl = "{url}"\nagent = "a"\nkey_env = "MY_KEY"\n'
                          '[profiles.q.options]\nauth = "query"\n')
        env = {"MY_KEY": KEY, "VOICECLI_LOG": "debug"}
        ok = cli.run("smoke", "--config", str(config), "--profile", "q", "--json", "--text", "hi",
                     "--out", str(tmp_path / "out" / "r.wav"), extra_env=env)
        assert ok.returncode == 0, ok.stderr
        assert "token=***" in ok.stdout  # the key travelled in the URL and was masked there
        wrong = cli.run("smoke", "--url", url, "--agent", "a", extra_env={"SMALLEST_API_KEY": KEY + "x",
                                                                          "VOICECLI_LOG": "debug"})
        assert wrong.returncode == 4
        for text in (ok.stdout, ok.stderr, wrong.stdout, wrong.stderr, files_text(tmp_path)):
            assert KEY not in text
    finally:
        stop()
