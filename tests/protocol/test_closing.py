"""One mapping of lost connections and unknown close codes for every dialect; announced
formats checked; JSON limits."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.session.test_worker import FakeConnection, collect, make_session
from voicecli.protocol.base import MAX_JSON_DEPTH, DialectConfig, JsonLimitError, parse_json
from voicecli.protocol.events import ErrorEvent, SessionEnded, Unknown
from voicecli.protocol.registry import DIALECTS, adapter_class
from voicecli.secrets import Secret
from voicecli.session.ending import closed_from_end
from voicecli.session.events import SessionClosed


def make(dialect: str):  # type: ignore[no-untyped-def]
    config = DialectConfig(url="http://127.0.0.1:1", agent_id="a", api_key=Secret("sk_closing_77"))
    return adapter_class(dialect)(config)


def ended(dialect: str, code: int | None, reason: str = "") -> SessionEnded:
    (end,) = [e for e in make(dialect).on_close(code, reason) if isinstance(e, SessionEnded)]
    return end


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@pytest.mark.parametrize("code", [None, 1006])
def test_a_lost_connection_is_exit_6_everywhere(dialect: str, code: int | None) -> None:
    end = ended(dialect, code)
    closed = closed_from_end(end, asked_to_close=False)
    assert closed.exit_code == 6 and end.retryable
    assert closed.error == f"the connection to the {dialect} server was lost (no close frame)"


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_a_frame_too_large_is_said_so(dialect: str) -> None:
    closed = closed_from_end(ended(dialect, 1009, "a frame over 16 MiB"), asked_to_close=False)
    assert closed.exit_code == 7 and closed.error is not None
    assert "frame too large" in closed.error and "code 1009" in closed.error


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_an_unknown_code_is_named(dialect: str) -> None:
    end = ended(dialect, 4999, "odd")
    closed = closed_from_end(end, asked_to_close=False)
    assert closed.exit_code == 7 and "code 4999" in (closed.error or "") and end.retryable


@pytest.mark.parametrize("rate", [10**9, 1, -1, 0, 44100, "16000", True, None, 1.5])
def test_atoms_announced_rate_outside_the_allowed_set_is_fatal(rate: object) -> None:
    (event,) = make("atoms").feed(json.dumps({"type": "session.created", "session_id": "s", "sample_rate": rate}))
    assert isinstance(event, ErrorEvent) and event.fatal and event.code == "unsupported_format"
    assert "allowed: 8000, 16000, 24000, 48000" in event.message


async def test_a_bad_announced_format_ends_the_session_at_once_exit_7() -> None:
    conn = FakeConnection()
    session = make_session(conn, ready_timeout=30)
    conn.server({"type": "session.created", "session_id": "s", "sample_rate": 10**9})
    events = asyncio.create_task(collect(session))
    closed = await asyncio.wait_for(session.run(), 5)  # not the 30 s ready timeout
    await events
    assert isinstance(closed, SessionClosed) and closed.exit_code == 7
    assert closed.error is not None and "unsupported sample_rate 1000000000" in closed.error


OVER = MAX_JSON_DEPTH + 1


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 100_000, "[" * OVER + "]" * OVER])
def test_json_nesting_limit(text: str) -> None:
    with pytest.raises(JsonLimitError, match="nested too deeply"):
        parse_json(text)
    assert parse_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH) is not None


def test_json_size_limit() -> None:
    with pytest.raises(JsonLimitError, match="frame too large"):
        parse_json('"' + "x" * (9 * 1024 * 1024) + '"')


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_adapter_answers_a_deep_frame_with_a_warning(dialect: str) -> None:
    events = make(dialect).feed("[" * 100_000)
    assert any(isinstance(e, Unknown) and e.malformed and "nested" in e.type for e in events), events
