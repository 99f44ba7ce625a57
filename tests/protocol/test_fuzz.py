"""Frame fuzzing for every dialect's adapter: whatever a server sends (valid messages with
any field mutated, typed messages with random fields, arbitrary JSON, text and bytes, nested
or huge), ``feed`` returns events and never raises, and ``on_close`` maps every code.

A few hundred examples per dialect in the default run; ``--hypothesis-profile=nightly``
runs 10,000 examples per dialect (several frames each).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecli.protocol.base import DialectConfig, Frame
from voicecli.protocol.events import Event, SessionEnded
from voicecli.protocol.registry import DIALECTS, adapter_class
from voicecli.secrets import Secret
from voicecli.session.ending import closed_from_end

FRAMES = Path(__file__).parent / "frames"
FUZZ = settings(max_examples=max(300, settings().max_examples), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def corpus(dialect: str) -> list[dict[str, Any]]:
    """The server messages recorded for a dialect (tests/protocol/frames)."""
    messages = []
    for path in sorted((FRAMES / dialect.replace("-", "_")).glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            entry = json.loads(line)
            if entry.get("dir") == "in" and isinstance(entry.get("frame"), str):
                try:
                    message = json.loads(entry["frame"])
                except ValueError:
                    continue
                if isinstance(message, dict) and isinstance(message.get("type"), str):
                    messages.append(message)
    return messages


CORPUS = {d: corpus(d) for d in DIALECTS}
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


@st.composite
def mutated(draw: st.DrawFn, dialect: str) -> str:
    """A recorded message with one field (at any depth) replaced, removed or added."""
    message = json.loads(json.dumps(draw(st.sampled_from(CORPUS[dialect]))))
    node: Any = message
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        children = [k for k in keys if isinstance(node[k], (dict, list)) and node[k]]
        if not children or draw(st.booleans()):
            break
        node = node[draw(st.sampled_from(children))]
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "add" and isinstance(node, dict):
        node[draw(st.text(max_size=12))] = draw(values)
    elif keys:
        key = draw(st.sampled_from(keys))
        if action == "remove" and isinstance(node, dict):
            del node[key]
        else:
            node[key] = draw(values)
    return json.dumps(message)


@st.composite
def typed(draw: st.DrawFn, dialect: str) -> str:
    """A message of a real type whose fields (real names) hold anything."""
    real = CORPUS[dialect]
    names = sorted({k for m in real for k in m if k != "type"})
    message = {name: draw(values) for name in draw(st.lists(st.sampled_from(names), max_size=5))}
    message["type"] = draw(st.sampled_from(sorted({m["type"] for m in real})))
    return json.dumps(message)


def hostile() -> st.SearchStrategy[Frame]:
    deep = st.integers(1, 3000).map(lambda n: "[" * n + "]" * n)
    unclosed = st.integers(1, 200_000).map(lambda n: '{"type":' + "[" * n)
    return (st.text(max_size=200) | st.binary(max_size=400) | values.map(json.dumps) | deep | unclosed)


def frames(dialect: str) -> st.SearchStrategy[list[Frame]]:
    one = mutated(dialect) | typed(dialect) | hostile()
    ready = st.sampled_from([json.dumps(m) for m in CORPUS[dialect]])
    return st.lists(ready | one, min_size=1, max_size=8)


def adapter(dialect: str) -> Any:
    config = DialectConfig(url="http://127.0.0.1:1", agent_id="a", api_key=Secret("sk_fuzz_4242"),
                           sample_rate=16000)
    return adapter_class(dialect)(config)


def check_feed(dialect: str, sequence: list[Frame]) -> None:
    a = adapter(dialect)
    a.on_open()
    for frame in sequence:
        events = a.feed(frame)
        assert isinstance(events, list) and all(isinstance(e, Event) for e in events), (frame, events)


def test_every_dialect_has_a_corpus() -> None:
    assert all(len(CORPUS[d]) >= 3 for d in DIALECTS), {d: len(m) for d, m in CORPUS.items()}


@FUZZ
@given(sequence=frames("atoms"))
def test_fuzz_atoms(sequence: list[Frame]) -> None:
    check_feed("atoms", sequence)


@FUZZ
@given(sequence=frames("elevenlabs"))
def test_fuzz_elevenlabs(sequence: list[Frame]) -> None:
    check_feed("elevenlabs", sequence)


@FUZZ
@given(sequence=frames("perfvoice"))
def test_fuzz_perfvoice(sequence: list[Frame]) -> None:
    check_feed("perfvoice", sequence)


@FUZZ
@given(sequence=frames("token-pcm"))
def test_fuzz_token_pcm(sequence: list[Frame]) -> None:
    check_feed("token-pcm", sequence)


@FUZZ
@given(sequence=frames("voiceagent"))
def test_fuzz_voiceagent(sequence: list[Frame]) -> None:
    check_feed("voiceagent", sequence)


@FUZZ
@given(dialect=st.sampled_from(sorted(DIALECTS)), sequence=st.lists(st.text(max_size=50), max_size=3),
       code=st.none() | st.integers(1000, 4999), reason=st.text(max_size=123))
def test_fuzz_close(dialect: str, sequence: list[str], code: int | None, reason: str) -> None:
    a = adapter(dialect)
    for frame in sequence:
        a.feed(frame)
    (ended,) = [e for e in a.on_close(code, reason) if isinstance(e, SessionEnded)]
    assert ended.close_code == code
    closed = closed_from_end(ended, asked_to_close=False)
    if ended.error:
        assert ended.failure in (None, "auth", "network", "protocol")
        assert closed.error and "\n" not in closed.error and closed.exit_code in (4, 5, 6, 7, 8)
    else:
        assert closed.exit_code == 0 and code in (None, 1000, 1001), ended
    if code is None or code == 1006:
        assert ended.failure == "network" and "no close frame" in (ended.error or ""), ended
