"""Scoring a run against its scenario: every expectation that does not hold becomes a
:class:`~voicecli.scenario.results.Failure` naming the turn and the expectation.

The same scoring serves a live run and ``voicecli replay`` (a recorded ``result.json``).
A scenario passes when the session itself did not fail and no expectation failed; its exit
code is then 0, else the session's own code (network, protocol, timeout...) or 9 when only
expectations failed.
"""

from __future__ import annotations

import re
from typing import Any

from voicecli.errors import ExpectationFailed
from voicecli.scenario.model import Scenario, Turn
from voicecli.scenario.results import Failure, ScenarioResult, TurnResult


def score(scenario: Scenario, result: ScenarioResult) -> ScenarioResult:
    """Fill ``failures`` (per turn and whole-scenario), ``ok`` and ``exit_code``."""
    session_code = result.exit_code if result.error else 0
    result.failures = []
    if result.error:
        result.failures.append(Failure(None, "session", result.error))
    for number, turn in enumerate(scenario.turns, 1):
        if number > len(result.turns):
            result.failures.append(Failure(number, "ran", "the turn never ran (the session ended before it)"))
            break
        observed = result.turns[number - 1]
        observed.failures = list(_turn(turn, observed))
    want = scenario.expect
    if want.latency_budget_ms is not None:
        for observed in result.turns:
            ms = observed.first_audio_ms
            if ms is not None and ms > want.latency_budget_ms:
                result.failures.append(Failure(observed.index, "latency_budget_ms",
                                               f"first audio after {ms:g} ms, budget {want.latency_budget_ms:g} ms"))
    if want.no_errors and result.server_errors:
        result.failures.append(Failure(None, "no_errors", f"the server reported: {'; '.join(result.server_errors)}"))
    if want.clean_close and not result.clean_close and not result.error:
        result.failures.append(Failure(None, "clean_close", "the session did not close cleanly"))
    failed = bool(result.all_failures())
    result.ok = not failed
    result.exit_code = session_code or (ExpectationFailed.exit_code if failed else 0)
    return result


def _turn(turn: Turn, seen: TurnResult) -> list[Failure]:
    want = turn.expect
    out: list[Failure] = []

    def fail(name: str, message: str) -> None:
        out.append(Failure(seen.index, name, message))

    reply = seen.agent_transcript
    if turn.needs_reply and not seen.answered:
        fail("reply", "no reply")
    if want.no_reply is True and not seen.no_reply:
        fail("no_reply", f"the agent replied: {_quote(reply)}")
    if want.no_reply is False and seen.no_reply:
        fail("no_reply", "the agent did not reply")
    if want.reply_matches is not None and not re.search(want.reply_matches, reply, re.IGNORECASE):
        fail("reply_matches", f"{_quote(reply)} does not match /{want.reply_matches}/")
    if want.reply_contains_any is not None and not _contains_any(reply, want.reply_contains_any):
        fail("reply_contains_any", f"{_quote(reply)} contains none of {want.reply_contains_any}")
    heard = seen.user_transcript
    if want.heard_matches is not None and not re.search(want.heard_matches, heard, re.IGNORECASE):
        fail("heard_matches", f"the agent heard {_quote(heard)}, which does not match /{want.heard_matches}/")
    if want.heard_contains_any is not None and not _contains_any(heard, want.heard_contains_any):
        fail("heard_contains_any", f"the agent heard {_quote(heard)}, none of {want.heard_contains_any}")
    if want.first_audio_within_ms is not None:
        ms = seen.first_audio_ms
        if ms is None or ms > want.first_audio_within_ms:
            got = "no audio" if ms is None else f"{ms:g} ms"
            fail("first_audio_within_ms", f"first audio: {got}, wanted within {want.first_audio_within_ms:g} ms")
    if want.reply_audio_s is not None:
        low, high = want.reply_audio_s.min, want.reply_audio_s.max
        if (low is not None and seen.agent_audio_s < low) or (high is not None and seen.agent_audio_s > high):
            fail("reply_audio_s", f"{seen.agent_audio_s:g} s of reply audio, wanted "
                                  f"{'' if low is None else f'{low:g}'}..{'' if high is None else f'{high:g}'} s")
    if want.tool_calls is not None:
        for expected in want.tool_calls:
            if not any(_call_matches(expected.name, expected.arguments, call) for call in seen.tool_calls):
                args = "" if expected.arguments is None else f" with {expected.arguments}"
                called = ", ".join(f"{c['name']}({c.get('arguments', {})})" for c in seen.tool_calls) or "none"
                fail("tool_calls", f"no call of {expected.name}{args} (calls: {called})")
        if not want.tool_calls and seen.tool_calls:
            fail("tool_calls", f"expected no tool calls, got {[c['name'] for c in seen.tool_calls]}")
    if want.interrupted is not None and seen.interrupted != want.interrupted:
        fail("interrupted", "the reply was interrupted" if seen.interrupted else "the reply was not interrupted")
    if turn.wait_for is not None and turn.wait_for not in seen.events:
        fail("wait_for", f"no {turn.wait_for} event within {turn.timeout_s:g} s")
    return out


def _contains_any(text: str, needles: list[str]) -> bool:
    low = text.lower()
    return any(needle.lower() in low for needle in needles)


def _call_matches(name: str, arguments: dict[str, Any] | None, call: dict[str, Any]) -> bool:
    if call.get("name") != name:
        return False
    got = call.get("arguments") or {}
    return arguments is None or all(got.get(k) == v for k, v in arguments.items())


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
