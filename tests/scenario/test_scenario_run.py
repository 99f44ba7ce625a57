"""`voicecli test` against a real local agent (tone voice, echo brain): a failing
expectation fails naming its turn (exit 9, JUnit failure on the turn's test case), the
failed conversation is recorded (stereo WAV + result.json) and `voicecli replay`
re-scores it offline; a session that cannot start keeps its own exit code."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
from junitparser import Failure, JUnitXml

from tests.scenario.conftest import Cli, write

SCENARIO = """\
version: 1
name: echo {name}
target: {{dialect: atoms, agent: agent_1}}
turns:
  - say: hello there
    expect:
      reply_matches: i heard you
  - text: second turn
    expect:
      reply_contains_any: [{want}]
"""


def test_a_failing_expectation_is_named_recorded_and_replayable(cli: Cli, echo_url: str, tmp_path: Path) -> None:
    failing = write(tmp_path, "failing.yaml", SCENARIO.format(name="failing", want="goodbye"))
    passing = write(tmp_path, "passing.yaml", SCENARIO.format(name="passing", want="second turn"))
    junit, record = tmp_path / "out" / "junit.xml", tmp_path / "rec"
    proc = cli.run("test", str(tmp_path), "--url", echo_url, "--junit", str(junit), "--record", str(record),
                   "--markdown", str(tmp_path / "out" / "summary.md"), timeout=120)
    assert proc.returncode == 9, proc.stdout + proc.stderr
    assert f"FAIL echo failing ({failing})" in proc.stdout
    assert "  turn 2: reply_contains_any: 'You said: second turn.' contains none of ['goodbye']" in proc.stdout
    assert f"PASS echo passing ({passing})" in proc.stdout
    assert proc.stdout.rstrip().endswith("1/2 scenarios passed")

    xml = JUnitXml.fromfile(str(junit))
    cases = {case.name: case for suite in xml for case in suite}
    assert len(cases) == 6  # a case per scenario and per turn
    turn2 = cases["echo failing / turn 2 (text: second turn)"]
    (failure,) = [r for r in turn2.result if isinstance(r, Failure)]
    assert failure.type == "reply_contains_any" and "turn 2: reply_contains_any" in failure.message
    assert all(case.is_passed for name, case in cases.items() if name != "echo failing / turn 2 (text: second turn)"
               and name != "echo failing")
    assert "turn 2: reply_contains_any" in (tmp_path / "out" / "summary.md").read_text()

    (folder,) = list(record.iterdir())  # only the failed scenario is kept
    with wave.open(str(folder / "conversation.wav")) as wav:
        assert wav.getnchannels() == 2
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert np.abs(samples[:, 0]).max() > 1000, "the spoken turn is on the left"
    assert np.abs(samples[:, 1]).max() > 1000, "the agent's replies are on the right"
    recorded = json.loads((folder / "result.json").read_text())
    assert recorded["turns"][1]["agent_transcript"] == "You said: second turn."

    replayed = cli.run("replay", str(folder), "--scenario", str(passing))
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    assert replayed.stdout.startswith("PASS echo passing")
    again = cli.run("replay", str(folder / "result.json"), "--scenario", str(failing), "--json")
    assert again.returncode == 9
    report = json.loads(again.stdout)
    assert report["scenarios"][0]["turns"][1]["failures"][0]["expectation"] == "reply_contains_any"


def test_a_session_that_cannot_start_keeps_its_exit_code(cli: Cli, tmp_path: Path) -> None:
    scenario = write(tmp_path, "s.yaml", SCENARIO.format(name="nowhere", want="x"))
    proc = cli.run("test", str(scenario), "--url", "ws://127.0.0.1:9/v1", "--json", "--junit",
                   str(tmp_path / "j.xml"))
    assert proc.returncode == 6, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    (result,) = report["scenarios"]
    assert result["failures"][0]["expectation"] == "session" and "127.0.0.1:9" in result["failures"][0]["message"]
    suite = next(iter(JUnitXml.fromfile(str(tmp_path / "j.xml"))))
    assert any(not case.is_passed for case in suite)
