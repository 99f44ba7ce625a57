"""``voicecli profiles`` and ``voicecli config init`` as real processes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.cli.conftest import Cli

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk_profiles_secret_9Qx"


def _cli(tmp_path: Path, **env: str) -> Cli:
    base = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_LOCAL_KEY"))
            and not k.startswith("VOICECLI_")}
    return Cli({**base, "XDG_CONFIG_HOME": str(tmp_path / "config"), "NO_COLOR": "1", **env})


def test_the_packaged_template_is_the_example_config() -> None:
    from voicecli.cli.config_init import template

    assert template() == (ROOT / "config.example.toml").read_text(encoding="utf-8")


def test_config_init_writes_the_example_and_never_overwrites_without_force(tmp_path: Path) -> None:
    cli = _cli(tmp_path)
    target = tmp_path / "config" / "voicecli" / "config.toml"
    first = cli.run("config", "init")
    assert first.returncode == 0, first.stderr
    assert f"voicecli: wrote {target}" in first.stderr.splitlines()
    assert target.read_text() == (ROOT / "config.example.toml").read_text()
    target.write_text("# mine\n")
    again = cli.run("config", "init")
    assert again.returncode == 2
    assert again.stderr.splitlines() == [f"voicecli: error: {target} exists; --force overwrites it"]
    assert target.read_text() == "# mine\n"
    forced = cli.run("config", "init", "--force")
    assert forced.returncode == 0 and target.read_text().startswith("# voicecli configuration")
    elsewhere = tmp_path / "other" / "c.toml"
    assert cli.run("config", "init", "--config", str(elsewhere)).returncode == 0 and elsewhere.exists()


def test_profiles_lists_each_profile_and_whether_its_key_is_set_never_the_key(tmp_path: Path) -> None:
    cli = _cli(tmp_path, VOICECLI_LOCAL_KEY=KEY)
    empty = cli.run("profiles")
    assert empty.returncode == 0 and empty.stdout == "" and "voicecli config init" in empty.stderr
    assert cli.run("config", "init").returncode == 0
    config = tmp_path / "config" / "voicecli" / "config.toml"
    config.write_text('default_profile = "local"\n' + config.read_text())
    table = cli.run("profiles")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["NAME", "DIALECT", "URL", "AGENT", "KEY"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert list(rows) == ["atoms", "local", "elevenlabs", "token-pcm", "voiceagent", "perfvoice"]
    assert rows["local"] == ["local", "*", "atoms", "http://127.0.0.1:8765", "local", "VOICECLI_LOCAL_KEY", "set"]
    assert rows["atoms"][-3:] == ["SMALLEST_API_KEY", "not", "set"]
    listed = cli.run("profiles", "--json")
    data = json.loads(listed.stdout)
    local = next(row for row in data if row["name"] == "local")
    assert local["key_set"] is True and local["default"] is True and local["key_env"] == "VOICECLI_LOCAL_KEY"
    assert KEY not in table.stdout + table.stderr + listed.stdout + listed.stderr


def test_profiles_with_a_broken_config_is_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[profiles.x]\nurl = 3\n")
    result = _cli(tmp_path).run("profiles", "--config", str(broken))
    assert result.returncode == 3
    (line,) = result.stderr.splitlines()
    assert line.startswith("voicecli: error: ") and "url" in line
