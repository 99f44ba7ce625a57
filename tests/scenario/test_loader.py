"""Scenario files: what validates, and one-line errors naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.scenario.conftest import Cli, write
from voicecli.scenario.loader import ScenarioError, expand, load, parse

GOOD = """\
version: 1
name: good
turns:
  - text: hello
    expect:
      reply_matches: hello
  - silence: 1.5
  - say: what time is it
    barge_in_after: 0.5
  - wait_for: agent_stopped_talking
    timeout_s: 3
"""


def test_a_valid_file_gives_its_turns_in_order() -> None:
    scenario = parse(GOOD, "good.yaml")
    assert [t.kind for t in scenario.turns] == ["text", "silence", "say", "wait_for"]
    assert [t.needs_reply for t in scenario.turns] == [True, False, True, False]
    assert scenario.turns[2].barge_in_after == 0.5
    assert scenario.expect.no_errors and scenario.expect.clean_close


@pytest.mark.parametrize(("text", "where"), [
    (GOOD.replace("reply_matches: hello", "reply_match: hello"), "x.yaml:6: turns.0.expect.reply_match: Extra inputs"),
    (GOOD.replace("  - silence: 1.5\n", "  - silence: 1.5\n    text: hi\n"),
     "x.yaml:7: turns.1: Value error, a turn has exactly one of say, audio, text, silence, wait_for; "
     "got text, silence"),
    (GOOD.replace("reply_matches: hello", "reply_matches: '(unclosed'"), "x.yaml:6: turns.0.expect.reply_matches:"),
    (GOOD.replace("silence: 1.5", "silence: -1"), "x.yaml:7: turns.1.silence: Input should be greater than 0"),
    (GOOD.replace("version: 1", "version: 2"), "x.yaml:1: version: Input should be 1"),
    (GOOD.replace("name: good\n", ""), "x.yaml:1: name: Field required"),
    (GOOD.replace("wait_for: agent_stopped_talking", "wait_for: Agent Stopped"), "x.yaml:10: turns.3.wait_for:"),
    ("version: 1\nname: x\nturns: [\n", "x.yaml:4: not valid YAML"),
    ("- just\n- a list\n", "x.yaml:1: a scenario is a mapping"),
])
def test_an_invalid_file_is_one_line_naming_file_line_and_field(text: str, where: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse(text, "x.yaml")
    message = str(caught.value)
    assert message.startswith(where), message
    assert "\n" not in message


@given(st.integers(min_value=0, max_value=10), st.from_regex(r"[a-z]{3,10}_x", fullmatch=True))
def test_an_unknown_field_anywhere_at_the_top_names_its_line(at: int, key: str) -> None:
    lines = GOOD.splitlines()
    top = [i for i, line in enumerate(lines) if not line.startswith(" ")]
    where = top[at % len(top)]
    lines.insert(where, f"{key}: 1")
    with pytest.raises(ScenarioError, match=rf"^x\.yaml:{where + 1}: {key}: Extra inputs"):
        parse("\n".join(lines) + "\n", "x.yaml")


def test_folders_expand_to_their_scenario_files_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    write(tmp_path / "b", "two.yml", GOOD)
    write(tmp_path, "one.yaml", GOOD)
    write(tmp_path, "notes.txt", "not a scenario")
    assert expand([tmp_path]) == [tmp_path / "b" / "two.yml", tmp_path / "one.yaml"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ScenarioError, match="no scenario files"):
        expand([tmp_path / "empty"])
    with pytest.raises(ScenarioError, match="no such file or folder"):
        expand([tmp_path / "missing.yaml"])
    assert load(tmp_path / "one.yaml").resolve("clip.wav") == tmp_path / "clip.wav"


def test_the_command_rejects_a_bad_file_before_connecting(cli: Cli, tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", GOOD.replace("timeout_s: 3", "timeout: 3"))
    proc = cli.run("test", str(bad), "--url", "ws://127.0.0.1:9/unreachable")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == f"voicecli: error: {bad}:11: turns.3.timeout: Extra inputs are not permitted"
    assert proc.stdout == ""


def test_a_missing_audio_file_names_the_scenario_and_turn(cli: Cli, tmp_path: Path) -> None:
    scenario = write(tmp_path, "clip.yaml", "version: 1\nname: clip\nturns:\n  - text: hi\n  - audio: nowhere.wav\n")
    proc = cli.run("test", str(scenario))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"voicecli: error: {scenario}: turn 2: audio:"), proc.stderr
    assert "Traceback" not in proc.stderr
