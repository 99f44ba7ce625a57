"""The local agent's offline voice (hibari) and ears (PocketSphinx).

Both come with the ``local`` extra; :func:`load_speech` degrades to ``None`` parts and a
one-line notice when they (or their models) are missing; only a fault in voicecli's own
code raises.
"""

from __future__ import annotations

import logging

from voicecli.agent.speech.stt import PocketSphinxRecognizer
from voicecli.agent.speech.tts import HibariSynthesizer
from voicecli.agent.voice_contracts import Recognizer, Synthesizer

INSTALL_NOTICE = "offline speech not installed: pip install 'voicecli[local]'"

log = logging.getLogger(__name__)


def _third_party(exc: ImportError) -> None:
    """Re-raise an ImportError of our own code: only a missing extra is a notice."""
    if (exc.name or "").split(".")[0] == "voicecli":
        raise exc


def load_speech() -> tuple[Synthesizer | None, Recognizer | None, str | None]:
    """Load the synthesizer and the recognizer: ``(tts, stt, notice)``.

    ``notice`` is ``None`` when both loaded, else one line saying what is missing and why.
    """
    problems: list[str] = []
    missing: list[str] = []
    tts: Synthesizer | None = None
    stt: Recognizer | None = None
    try:
        tts = HibariSynthesizer()
    except ImportError as exc:
        _third_party(exc)
        missing.append("hibari-tts")
    except Exception as exc:  # noqa: BLE001 - any model failure must leave the agent usable
        log.warning("speech synthesis failed to load: %s", exc)
        problems.append(f"speech synthesis failed to load ({exc})")
    try:
        stt = PocketSphinxRecognizer()
    except ImportError as exc:
        _third_party(exc)
        missing.append("pocketsphinx")
    except Exception as exc:  # noqa: BLE001
        log.warning("speech recognition failed to load: %s", exc)
        problems.append(f"speech recognition failed to load ({exc})")
    if len(missing) == 2:
        problems.insert(0, INSTALL_NOTICE)
    elif missing:
        problems.insert(0, f"{INSTALL_NOTICE} ({missing[0]} is missing)")
    return tts, stt, "; ".join(problems) or None
