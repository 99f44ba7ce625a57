"""PCM helpers shared by every layer: pure functions over bytes and numpy arrays.

- :mod:`~voicecli.pcm.ulaw`: G.711 µ-law ⇄ PCM16;
- :mod:`~voicecli.pcm.levels`: RMS level in dBFS, with one silence floor;
- :mod:`~voicecli.pcm.wav`: PCM16 WAV files as bytes, written and read;
- :mod:`~voicecli.pcm.convert`: float ⇄ PCM16 with one rounding rule;
- :mod:`~voicecli.pcm.sentences`: the one sentence splitter for speech.

This package imports nothing else of voicecli (an import-linter contract keeps it so), and
no I/O library: numpy and the standard library only.
"""
