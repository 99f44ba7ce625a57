"""The reconnect policy, without sockets: which ends retry, per provider, and the waits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicecli.errors import AuthError, NetworkError, ProtocolError
from voicecli.protocol.atoms import AtomsAdapter
from voicecli.protocol.base import DialectConfig, default_handshake_error
from voicecli.protocol.elevenlabs import ElevenLabsAdapter
from voicecli.protocol.events import SessionEnded
from voicecli.protocol.perfvoice import PerfVoiceAdapter
from voicecli.protocol.token_pcm import TokenPcmAdapter
from voicecli.secrets import Secret
from voicecli.session.reconnect import NEVER_RETRY, Backoff, Failure, ReconnectPolicy

CONFIG = DialectConfig(url="http://127.0.0.1:9", agent_id="a", api_key=Secret("sk_unit_1234"))
DIALECTS = sorted(NEVER_RETRY)


def end_of(adapter: object, code: int | None, reason: str = "") -> Failure:
    (end,) = [e for e in adapter.on_close(code, reason) if isinstance(e, SessionEnded)]  # type: ignore[attr-defined]
    return Failure.from_end(end)


@pytest.mark.parametrize(("adapter", "code", "retry"), [
    (AtomsAdapter(CONFIG), None, True),        # lost TCP connection
    (AtomsAdapter(CONFIG), 1011, True),
    (AtomsAdapter(CONFIG), 4000, False),
    (AtomsAdapter(CONFIG), 4401, False),
    (AtomsAdapter(CONFIG), 4403, False),
    (AtomsAdapter(CONFIG), 1000, False),       # a clean end
    (ElevenLabsAdapter(CONFIG), 1011, True),
    (ElevenLabsAdapter(CONFIG), 1008, False),
    (ElevenLabsAdapter(CONFIG), 1002, False),
    (ElevenLabsAdapter(CONFIG), None, True),
    (PerfVoiceAdapter(CONFIG), 1011, True),
    (PerfVoiceAdapter(CONFIG), 1008, False),
    (TokenPcmAdapter(CONFIG), 4500, True),
    (TokenPcmAdapter(CONFIG), 4003, False),
    (TokenPcmAdapter(CONFIG), None, True),
])
def test_what_the_adapters_report_decides(adapter: object, code: int | None, retry: bool) -> None:
    policy = ReconnectPolicy(adapter.name)  # type: ignore[attr-defined]
    decision = policy.decide(end_of(adapter, code), attempt=1, elapsed_s=0.0)
    assert decision.retry is retry, decision
    if not retry:
        assert decision.why


def test_handshake_failures() -> None:
    policy = ReconnectPolicy("atoms")
    unavailable = default_handshake_error(503, b"", "the atoms server")
    assert isinstance(unavailable, NetworkError)
    assert policy.decide(Failure.from_error(unavailable), 1, 0.0).retry
    refused = NetworkError("connection refused by ws://127.0.0.1:9", retryable=True)
    assert policy.decide(Failure.from_error(refused), 1, 0.0).retry
    for error in (AuthError("atoms refused the connection (HTTP 401)"), ProtocolError("HTTP 400"),
                  NetworkError("TLS certificate check failed")):
        decision = policy.decide(Failure.from_error(error), 1, 0.0)
        assert not decision.retry and str(error) in decision.why


def test_no_end_message_is_a_clean_end() -> None:
    assert not ReconnectPolicy("atoms").decide(Failure.from_end(None), 1, 0.0).retry


@given(dialect=st.sampled_from(DIALECTS), code=st.integers(1000, 4999), attempt=st.integers(1, 50),
       retryable=st.booleans())
def test_never_codes_never_retry_whatever_the_flag(dialect: str, code: int, attempt: int, retryable: bool) -> None:
    failure = Failure("closed", retryable=retryable, close_code=code)
    decision = ReconnectPolicy(dialect).decide(failure, attempt, 0.0)
    if code in NEVER_RETRY[dialect] or not retryable:
        assert not decision.retry
    elif attempt <= Backoff().attempts:
        assert decision.retry and decision.attempt == attempt and decision.attempts == Backoff().attempts


backoffs = st.builds(Backoff, first_s=st.floats(0, 30), factor=st.floats(1, 4), max_delay_s=st.floats(0, 120),
                     jitter=st.floats(0, 0.99), attempts=st.integers(0, 20), total_s=st.floats(0, 600))


@given(backoff=backoffs, attempt=st.integers(1, 200), rand=st.floats(0, 1, exclude_max=True))
def test_every_wait_is_within_its_bounds(backoff: Backoff, attempt: int, rand: float) -> None:
    delay = backoff.delay(attempt, rand)
    base = min(backoff.max_delay_s, backoff.first_s * backoff.factor ** (attempt - 1))
    assert 0 <= delay <= backoff.max_delay_s
    assert base * (1 - backoff.jitter) - 1e-9 <= delay <= base * (1 + backoff.jitter) + 1e-9


@given(backoff=backoffs, rand=st.floats(0, 1, exclude_max=True))
def test_attempts_and_total_time_are_capped(backoff: Backoff, rand: float) -> None:
    policy = ReconnectPolicy("atoms", backoff, rand=lambda: rand)
    failure = Failure("lost", retryable=True)
    elapsed, attempt = 0.0, 1
    while (decision := policy.decide(failure, attempt, elapsed)).retry:
        assert elapsed + decision.delay_s <= backoff.total_s
        elapsed += decision.delay_s
        attempt += 1
    assert attempt - 1 <= backoff.attempts
    assert "gave up" in decision.why


def test_waits_grow_then_stop_at_the_cap() -> None:
    backoff = Backoff(first_s=1, factor=2, max_delay_s=5, jitter=0, attempts=6, total_s=100)
    assert [backoff.delay(n, 0.5) for n in range(1, 7)] == [1, 2, 4, 5, 5, 5]


def test_jitter_spreads_the_waits() -> None:
    backoff = Backoff(first_s=2, jitter=0.25)
    assert backoff.delay(1, 0.0) == pytest.approx(1.5)
    assert backoff.delay(1, 0.999999) == pytest.approx(2.5, abs=1e-5)


def test_bad_backoff_is_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(jitter=1.5)
    with pytest.raises(ValueError):
        Backoff(attempts=-1)
