"""smoke's verdict from the turns and the session's end: a turn passes only when its reply
finished while the session was open and held text or audio."""

from __future__ import annotations

from voicecli.cli.smoke_report import SmokeReport, TurnReport, verdict
from voicecli.session.events import SessionClosed


def report(*turns: tuple[float | None, str, float]) -> SmokeReport:
    made = SmokeReport(dialect="atoms")
    for index, (reply_ms, text, audio_s) in enumerate(turns, 1):
        made.turns.append(TurnReport(index=index, input="text", content="hi", reply_ms=reply_ms,
                                     agent_transcript=text, agent_audio_s=audio_s))
    return made


CLEAN = SessionClosed(reason="the agent ended the conversation", close_code=1000)
DROPPED = SessionClosed(reason="connection lost", error="the connection to the atoms server was lost "
                        "(no close frame)", exit_code=6)


def test_answered_turns_and_a_clean_close_after_them_pass() -> None:
    r = report((900.0, "hello", 0.5), (800.0, "", 0.4))
    verdict(r, CLEAN, started=True, planned=2)
    assert (r.ok, r.exit_code, r.error) == (True, 0, None) and all(t.answered for t in r.turns)


def test_a_clean_close_before_the_first_turn_fails_naming_it() -> None:
    r = report()
    verdict(r, CLEAN, started=True, planned=1)
    assert (r.ok, r.exit_code) == (False, 7)
    assert r.error == "the session ended before turn 1: the agent ended the conversation (code 1000)"


def test_a_clean_close_mid_reply_fails_naming_the_turn() -> None:
    r = report((None, "", 0.3))  # half the audio, no text, the reply never finished
    verdict(r, CLEAN, started=True, planned=1)
    assert (r.ok, r.exit_code) == (False, 7) and not r.turns[0].answered
    assert r.error is not None and r.error.startswith("the session ended during turn 1")


def test_a_lost_connection_keeps_its_exit_code_and_names_the_turn() -> None:
    r = report((900.0, "hi", 0.5), (None, "", 0.0))
    verdict(r, DROPPED, started=True, planned=3)
    assert (r.ok, r.exit_code) == (False, 6) and [t.answered for t in r.turns] == [True, False]
    assert r.error == "the connection to the atoms server was lost (no close frame) (during turn 2)"


def test_an_error_after_every_turn_was_answered_still_fails() -> None:
    r = report((900.0, "hi", 0.5))
    verdict(r, DROPPED, started=True, planned=1)
    assert (r.ok, r.exit_code) == (False, 6) and r.turns[0].answered
    assert r.error is not None and r.error.endswith("(after turn 1)")


def test_a_reply_with_neither_text_nor_audio_is_no_reply() -> None:
    r = report((900.0, "  ", 0.0))
    verdict(r, None, started=True, planned=1)
    assert (r.ok, r.exit_code) == (False, 8)
    assert r.error == "no reply to turn 1 (the agent sent neither text nor audio)"
    heard = report((900.0, "", 0.0))  # the reply's audio sits on an earlier transcript turn
    verdict(heard, None, started=True, planned=1, heard={1})
    assert heard.ok


def test_a_session_that_never_started_does_not_name_a_turn() -> None:
    r = report()
    refused = SessionClosed(reason="auth", error="atoms refused the credentials (HTTP 401)", exit_code=4)
    verdict(r, refused, started=False, planned=1)
    assert (r.exit_code, r.error) == (4, "atoms refused the credentials (HTTP 401)")
