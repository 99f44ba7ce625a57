"""Scoring: each expectation that does not hold fails naming its turn and itself; a run
that meets every expectation passes with exit 0; a failed session keeps its own code."""

from __future__ import annotations

import pytest

from voicecli.scenario.expectations import score
from voicecli.scenario.loader import parse
from voicecli.scenario.results import ScenarioResult, TurnResult


def scenario(expect: str, *, turn: str = "text: hello", whole: str = "") -> str:
    indented = "\n".join("      " + line for line in expect.splitlines())
    return (f"version: 1\nname: s\n{whole}turns:\n  - {turn}\n    expect:\n{indented}\n"
            if expect else f"version: 1\nname: s\n{whole}turns:\n  - {turn}\n")


def observed(**turn: object) -> ScenarioResult:
    base: dict[str, object] = {"index": 1, "input": "text", "content": "hello", "first_audio_ms": 300.0,
                               "reply_ms": 1200.0, "agent_audio_s": 1.5, "user_transcript": "what time is it",
                               "agent_transcript": "It is nine fifteen.", "replies": ["It is nine fifteen."],
                               "no_reply": False, "interrupted": False, "answered": True,
                               "tool_calls": [{"name": "get_local_time", "arguments": {"zone": "UTC"}}],
                               "events": ["text_sent", "agent_audio", "agent_stopped_talking"]}
    base.update(turn)
    return ScenarioResult(name="s", file="s.yaml", clean_close=True, turns=[TurnResult(**base)])  # type: ignore[arg-type]


PASSING = """\
reply_matches: nine\\s+fifteen
reply_contains_any: [eight, Nine]
heard_matches: time
heard_contains_any: [TIME]
first_audio_within_ms: 500
reply_audio_s: {min: 1, max: 2}
tool_calls: [{name: get_local_time, arguments: {zone: UTC}}]
interrupted: false
no_reply: false"""


def test_a_run_that_meets_every_expectation_passes() -> None:
    result = score(parse(scenario(PASSING, whole="expect: {latency_budget_ms: 400}\n"), "s.yaml"), observed())
    assert result.all_failures() == []
    assert result.ok and result.exit_code == 0


@pytest.mark.parametrize(("expect", "name", "text"), [
    ("reply_matches: ten", "reply_matches", "'It is nine fifteen.' does not match /ten/"),
    ("reply_contains_any: [ten, eleven]", "reply_contains_any", "contains none of ['ten', 'eleven']"),
    ("heard_matches: date", "heard_matches", "the agent heard 'what time is it'"),
    ("heard_contains_any: [date]", "heard_contains_any", "none of ['date']"),
    ("first_audio_within_ms: 200", "first_audio_within_ms", "first audio: 300 ms, wanted within 200 ms"),
    ("reply_audio_s: {max: 1}", "reply_audio_s", "1.5 s of reply audio, wanted ..1 s"),
    ("reply_audio_s: {min: 2}", "reply_audio_s", "wanted 2.. s"),
    ("tool_calls: [{name: get_weather}]", "tool_calls", "no call of get_weather"),
    ("tool_calls: [{name: get_local_time, arguments: {zone: CET}}]", "tool_calls", "with {'zone': 'CET'}"),
    ("tool_calls: []", "tool_calls", "expected no tool calls"),
    ("interrupted: true", "interrupted", "the reply was not interrupted"),
    ("no_reply: true", "no_reply", "the agent replied: 'It is nine fifteen.'"),
])
def test_each_expectation_that_does_not_hold_names_the_turn_and_itself(expect: str, name: str, text: str) -> None:
    result = score(parse(scenario(expect), "s.yaml"), observed())
    failures = result.all_failures()
    assert [(f.turn, f.expectation) for f in failures] == [(1, name)], failures
    assert text in failures[0].message
    assert failures[0].describe().startswith(f"turn 1: {name}: ")
    assert not result.ok and result.exit_code == 9


def test_a_turn_without_a_reply_fails_unless_none_was_expected() -> None:
    silent = {"no_reply": True, "answered": False, "agent_transcript": "", "replies": [], "first_audio_ms": None,
              "agent_audio_s": 0.0, "reply_ms": None, "tool_calls": []}
    failed = score(parse(scenario("first_audio_within_ms: 900"), "s.yaml"), observed(**silent))
    assert {(f.turn, f.expectation) for f in failed.all_failures()} == {(1, "reply"), (1, "first_audio_within_ms")}
    assert score(parse(scenario("no_reply: true"), "s.yaml"), observed(**silent)).ok
    assert score(parse(scenario("", turn="silence: 1"), "s.yaml"), observed(input="silence", **silent)).ok


def test_whole_scenario_expectations() -> None:
    over = score(parse(scenario("", whole="expect: {latency_budget_ms: 250}\n"), "s.yaml"), observed())
    assert [(f.turn, f.expectation) for f in over.failures] == [(1, "latency_budget_ms")]
    errors = observed()
    errors.server_errors = ["rate_limited: slow down"]
    errors.clean_close = False
    failed = score(parse(scenario(""), "s.yaml"), errors)
    assert [f.expectation for f in failed.failures] == ["no_errors", "clean_close"]
    relaxed = score(parse(scenario("", whole="expect: {no_errors: false, clean_close: false}\n"), "s.yaml"),
                    errors)
    assert relaxed.ok


def test_a_failed_session_keeps_its_exit_code_and_unrun_turns_are_named() -> None:
    result = observed()
    result.error, result.exit_code = "connection refused", 6
    text = "version: 1\nname: s\nturns:\n  - text: hello\n  - text: again\n"
    scored = score(parse(text, "s.yaml"), result)
    assert [(f.turn, f.expectation) for f in scored.all_failures()] == [(None, "session"), (2, "ran")]
    assert scored.exit_code == 6


def test_a_wait_for_turn_fails_when_its_event_never_came() -> None:
    text = "version: 1\nname: s\nturns:\n  - wait_for: tool_call\n    timeout_s: 2\n"
    quiet = observed(input="wait", events=["mark"], no_reply=True, answered=False)
    failed = score(parse(text, "s.yaml"), quiet)
    assert [(f.turn, f.expectation, f.message) for f in failed.all_failures()] == [
        (1, "wait_for", "no tool_call event within 2 s")]
    assert score(parse(text, "s.yaml"), observed(events=["mark", "tool_call"])).ok
