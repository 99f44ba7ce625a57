from voicecli.audio.echo import EchoCanceller, HalfDuplexGate


def test_gate_mutes_while_audible_and_for_the_tail():
    t = [0.0]
    gate = HalfDuplexGate(tail_ms=200, clock=lambda: t[0])
    assert isinstance(gate, EchoCanceller)
    frame = b"\x10\x00" * 320
    assert gate.process(frame, playback_audible=False) == frame
    assert gate.process(frame, playback_audible=True) == bytes(640)
    t[0] = 0.15
    assert gate.process(frame, playback_audible=False) == bytes(640)  # echo tail
    t[0] = 0.21
    assert gate.process(frame, playback_audible=False) == frame
    assert gate.frames_muted == 2


def test_reference_audio_keeps_gate_closed_until_heard():
    gate = HalfDuplexGate(tail_ms=100, clock=lambda: 0.0)
    gate.reference(bytes(16000), 16000, t=1.0)  # 0.5 s playing from t=1.0
    assert gate.muted(False, now=1.2)
    assert gate.muted(False, now=1.55)
    assert not gate.muted(False, now=1.61)
    gate.reference(bytes(16000), 16000, t=2.0)
    gate.reset()
    assert not gate.muted(False, now=2.1)
