"""A distinctive key must appear in no output, log line or file."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import NO_GREETING, Cli
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
        ok = cli.run("smoke", *NO_GREETING, "--config", str(config), "--profile", "q", "--json", "--text", "hi",
                     "--out", str(tmp_path / "out" / "r.wav"), extra_env=env, process=True)
        assert ok.returncode == 0, ok.stderr
        assert "token=***" in ok.stdout  # the key travelled in the URL and was masked there
        wrong = cli.run("smoke", "--url", url, "--agent", "a", extra_env={"SMALLEST_API_KEY": KEY + "x",
                                                                          "VOICECLI_LOG": "debug"},
                        process=True)
        assert wrong.returncode == 4
        for text in (ok.stdout, ok.stderr, wrong.stdout, wrong.stderr, files_text(tmp_path)):
            assert KEY not in text
    finally:
        stop()


def test_url_password_and_header_values_never_printed(cli: Cli, tmp_path: Path) -> None:
    """A URL's userinfo password and every profile header value are masked in the report,
    the errors and the debug log (the issue's defect 8)."""
    password, header = "hunter2PASSWORD_q8", "hdr_SECRET_value_w3"
    url, stop = start_in_thread(AgentConfig(api_key=None, greeting="", speech=False, brain="echo"))
    try:
        with_password = url.replace("http://", f"http://bob:{password}@")
        config = tmp_path / "config.toml"
        config.write_text(f'[profiles.v]\ndialect = "voiceagent"\nurl = "{with_password}"\n'
                          f'[profiles.v.headers]\nX-Api-Token = "{header}"\n')
        proc = cli.run("smoke", *NO_GREETING, "--config", str(config), "--profile", "v", "--json", "--text", "hi",
                       extra_env={"VOICECLI_LOG": "debug"})
        assert proc.returncode == 0, proc.stderr
        assert "bob:***@" in proc.stdout  # the report's URL, masked
        assert "X-Api-Token" in proc.stderr  # the debug log names the header, not its value
        refused = cli.run("smoke", "--url", f"http://bob:{password}@127.0.0.1:9", "--dialect", "voiceagent",
                          "--json")
        assert refused.returncode == 6
        for text in (proc.stdout, proc.stderr, refused.stdout, refused.stderr):
            assert password not in text and header not in text
    finally:
        stop()
