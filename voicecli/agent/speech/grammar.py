"""A JSGF grammar of what a brain can answer, for a recogniser constrained to it.

:func:`jsgf` turns a brain's sentences (JSGF expansions that may use the rules ``<number>``
and ``<sum>``) into a grammar; the number words and operators come from
:mod:`voicecli.agent.speech.numbers`, the same tables the rules brain reads sums with, so
every sentence the grammar lets the recogniser write is one the brain understands.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from voicecli.agent.speech.numbers import ONES, OPERATORS, TENS

NAME = "brain"
_WORD = re.compile(r"[a-z']+")
_SYNTAX = re.compile(r"<[a-z_]+>|[a-z']+")


def _alternatives(words: Iterable[str]) -> str:
    return " | ".join(words)


def _number_rules() -> list[str]:
    """Whole numbers below a thousand and one operator: "twelve plus seven", "a hundred over four".

    Longer numbers, decimals and chains of operators are left to typed text: each one the
    grammar allows is one more thing a short spoken number can be mistaken for.
    """
    digits = [w for w, v in ONES.items() if 1 <= v <= 9]
    teens = [w for w, v in ONES.items() if v >= 10]
    spoken_ops = [" ".join(words) for words, _op in OPERATORS if all(_WORD.fullmatch(w) and len(w) > 1 for w in words)]
    return [
        f"<digit> = {_alternatives(digits)};",
        f"<teen> = {_alternatives(teens)};",
        f"<tens> = {_alternatives(TENS)};",
        "<below_hundred> = zero | <digit> | <teen> | <tens> [<digit>];",
        "<number> = <below_hundred> | ([<digit> | a] hundred [[and] <below_hundred>]);",
        f"<operator> = {_alternatives(spoken_ops)};",
        "<sum> = <number> <operator> <number>;",
    ]


def jsgf(sentences: Iterable[str]) -> str:
    """A JSGF grammar whose public rule is any one of ``sentences``."""
    body = " | ".join(f"({s})" for s in sentences)
    return "\n".join(["#JSGF V1.0;", f"grammar {NAME};", f"public <utterance> = {body};", *_number_rules()]) + "\n"


def words(grammar: str) -> set[str]:
    """Every word ``grammar`` may produce (to check them against a pronunciation dictionary)."""
    text = "\n".join(line.split("=", 1)[1] for line in grammar.splitlines() if "=" in line)
    return {w for w in _SYNTAX.findall(text) if not w.startswith("<")}
