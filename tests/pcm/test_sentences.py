"""Sentence splitting for speech, whole and streamed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from voicecli.pcm.sentences import SentenceChunker, split_sentences


def test_splits_at_end_punctuation() -> None:
    assert split_sentences("Hello there. What is the weather in Paris today?") == [
        "Hello there.",
        "What is the weather in Paris today?",
    ]
    assert split_sentences("Stop! Are you sure? Yes, I am sure.") == ["Stop! Are you sure?", "Yes, I am sure."]


def test_short_fragments_stay_together() -> None:
    assert split_sentences("Hi. I am the local agent.") == ["Hi. I am the local agent."]
    assert split_sentences("That is the answer. Ok.") == ["That is the answer. Ok."]


def test_abbreviations_initials_and_decimals_do_not_split() -> None:
    text = "Dr. Smith paid 3.50 dollars. J. K. Rowling wrote it, e.g. the first book."
    assert split_sentences(text) == ["Dr. Smith paid 3.50 dollars.", "J. K. Rowling wrote it, e.g. the first book."]


def test_line_breaks_split_and_blank_text_gives_nothing() -> None:
    assert split_sentences("First line here\nSecond line here") == ["First line here", "Second line here"]
    assert split_sentences("   \n ") == []


def test_streamed_text_yields_each_sentence_once_it_is_complete() -> None:
    chunker = SentenceChunker()
    out: list[str] = []
    for piece in ["Hello", " there.", " The weather", " is fine today.", " Bye"]:
        out.append("|".join(chunker.feed(piece)))
    # "Hello there." is only known to be complete when the space after it arrives
    assert out == ["", "", "Hello there.", "", "The weather is fine today."]
    assert chunker.flush() == ["Bye"]
    assert chunker.flush() == []


TEXT = st.lists(st.sampled_from([*"abc XY.!?…\n,'\"", "Dr.", "e.g.", " 3.5 ", "Hello there. "]),
                max_size=40).map("".join)


@given(TEXT, st.lists(st.integers(0, 120), max_size=8))
def test_streaming_in_any_pieces_gives_the_sentences_of_the_whole_text(text: str, cuts: list[int]) -> None:
    whole = SentenceChunker()
    expected = whole.feed(text) + whole.flush()
    streamed = SentenceChunker()
    out: list[str] = []
    bounds = sorted({0, len(text), *(c for c in cuts if c < len(text))})
    for start, end in zip(bounds, bounds[1:], strict=False):
        out += streamed.feed(text[start:end])
    assert out + streamed.flush() == expected
    assert " ".join(expected).split() == text.split()  # no word lost, added or reordered
