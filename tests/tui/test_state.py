"""The status view-model: phases, agent talking without talk events, speech while muted."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from voicecli.protocol.events import (
    AgentAudio,
    AgentStartedTalking,
    AgentStoppedTalking,
    AudioFormat,
    Interruption,
    Ping,
    SessionStarted,
)
from voicecli.session.events import Connected, Connecting, Levels, Reconnecting, SessionClosed
from voicecli.tui.state import DRAINED_LEVELS, MUTED_SPEECH_LEVELS, TalkState
from voicecli.tui.widgets.status import status_parts

FMT = AudioFormat("pcm16", 16000)
AUDIO = AgentAudio(data=bytes(640), format=FMT)


def quiet(agent_db: float = -100.0, mic_db: float = -70.0, queued_s: float = 0.0) -> Levels:
    return Levels(mic_db=mic_db, agent_db=agent_db, mic_open=True, agent_queued_s=queued_s)


def test_while_connecting_the_mic_is_never_said_to_be_open() -> None:
    state = TalkState()
    for event in (Connecting("wss://x", "atoms"), Connected("wss://x", "atoms", 12.0)):
        state.apply(event)
        assert state.mic_word == "waiting" and "listening" not in state.talk_word
    state.apply(SessionStarted(FMT, FMT))
    assert state.mic_word == "open mic" and state.talk_word == "○ agent listening"
    state.apply(Reconnecting(attempt=1, attempts=5, delay_s=2.0, error="lost"))
    assert state.mic_word == "waiting" and state.phase_text() == "reconnecting in 2 s… attempt 1/5"
    state.apply(SessionClosed(reason="client_requested"))
    assert state.phase == "closed" and state.talk_word == "○ ended"


def test_agent_talking_without_talk_events_follows_audio_and_the_drained_speaker() -> None:
    state = TalkState()
    state.apply(SessionStarted(FMT, FMT))
    state.apply(AUDIO)
    assert state.agent_talking
    for _ in range(DRAINED_LEVELS - 1):
        state.apply(quiet())
    assert state.agent_talking  # a short gap between chunks is still the same reply
    state.apply(quiet())
    assert not state.agent_talking


def test_talk_events_win_over_the_audio_where_the_dialect_sends_them() -> None:
    state = TalkState()
    state.apply(SessionStarted(FMT, FMT))
    state.apply(AgentStartedTalking())
    for _ in range(DRAINED_LEVELS + 2):
        state.apply(quiet())  # the provider says it still talks (audio not yet arrived)
    assert state.agent_talking
    state.apply(AgentStoppedTalking())
    state.apply(AUDIO)
    assert not state.agent_talking
    state.apply(AgentStartedTalking())
    state.apply(Interruption())
    assert not state.agent_talking


def test_speaking_while_muted_warns_once_per_stretch() -> None:
    state = TalkState(muted=True)
    state.apply(SessionStarted(FMT, FMT))
    warnings = [state.apply(quiet(mic_db=-20.0)) for _ in range(MUTED_SPEECH_LEVELS + 5)]
    assert [w for w in warnings if w] == ["you are speaking while muted: F2 or /mute to unmute"]
    state.apply(quiet(mic_db=-80.0))
    again = [state.apply(quiet(mic_db=-20.0)) for _ in range(MUTED_SPEECH_LEVELS)]
    assert again[-1] is not None
    state.muted = False
    assert all(state.apply(quiet(mic_db=-20.0)) is None for _ in range(MUTED_SPEECH_LEVELS + 1))


def test_status_shows_profile_dialect_rec_half_duplex_devices_and_rtt() -> None:
    state = TalkState(label="wss://api.smallest.ai", dialect="atoms", profile="work", half_duplex=True,
                      recording=Path("/tmp/rec"), input_device="mic", output_device="spk")
    state.apply(SessionStarted(FMT, FMT))
    state.apply(Ping(event_id=1, ping_ms=31))
    shown = [text for text, _ in status_parts(state) if text]
    assert shown[0] == "wss://api.smallest.ai (atoms, profile work)"
    for part in ("● REC", "half-duplex", "rtt 31 ms", "mic mic · spk spk", "16 kHz", "live"):
        assert part in shown


def test_the_agent_talks_until_the_speaker_has_played_what_came_before_it_stopped() -> None:
    """A provider sends audio faster than it plays and says it stopped talking when it has
    sent the last of it: the speaker may still have seconds of it to play."""
    state = TalkState()
    state.apply(SessionStarted(FMT, FMT))
    state.apply(AgentStartedTalking())
    state.apply(quiet(agent_db=-20.0, queued_s=2.7))
    state.apply(AgentStoppedTalking())
    assert state.agent_talking
    for queued in (1.5, 0.4, 0.0):
        state.apply(quiet(agent_db=-20.0, queued_s=queued))
        assert state.agent_talking  # still heard
    state.apply(quiet(queued_s=0.0))
    assert not state.agent_talking and state.talk_word == "○ agent listening"


def test_a_speaker_gap_before_the_agent_stopped_talking_is_not_its_end() -> None:
    state = TalkState()
    state.apply(SessionStarted(FMT, FMT))
    state.apply(AgentStartedTalking())
    state.apply(quiet(queued_s=0.0))  # the provider's audio is late: nothing to play yet
    assert state.agent_talking
    state.apply(quiet(agent_db=-20.0, queued_s=0.3))
    state.apply(Interruption())  # a cut drops the queue: the agent stops at once
    assert not state.agent_talking
    state.apply(AgentStoppedTalking())
    assert not state.agent_talking


@given(st.lists(st.sampled_from(["audio", "quiet", "loud", "queued", "cut", "start", "stop"]), max_size=40))
def test_the_agent_is_never_talking_once_it_stopped_and_the_speaker_drained(steps: list[str]) -> None:
    state = TalkState()
    state.apply(SessionStarted(FMT, FMT))
    events = {"audio": AUDIO, "quiet": quiet(), "loud": quiet(agent_db=-10.0),
              "queued": quiet(agent_db=-10.0, queued_s=1.0), "cut": Interruption(),
              "start": AgentStartedTalking(), "stop": AgentStoppedTalking()}
    queued = False  # the speaker's queue as the last meter reading (or a cut) left it
    for step in steps:
        state.apply(events[step])
        if step in ("quiet", "loud", "queued", "cut"):
            queued = step == "queued"
    state.apply(AgentStoppedTalking())
    assert state.agent_talking == queued
    for _ in range(DRAINED_LEVELS):
        state.apply(quiet())
    assert not state.agent_talking


@given(st.lists(st.sampled_from(["audio", "quiet", "loud", "cut"]), max_size=40))
def test_the_agent_is_never_talking_once_the_speaker_drained_without_talk_events(steps: list[str]) -> None:
    state = TalkState()
    state.apply(SessionStarted(FMT, FMT))
    events = {"audio": AUDIO, "quiet": quiet(), "loud": quiet(agent_db=-10.0), "cut": Interruption()}
    for step in steps:
        if step in events:
            state.apply(events[step])
    for _ in range(DRAINED_LEVELS):
        state.apply(quiet())
    assert not state.agent_talking
