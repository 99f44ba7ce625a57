"""Numbers and sums as people say them and as speech recognition writes them.

``parse_expression("what is twelve plus seven")`` → ``("12 plus 7", Fraction(19))``. Numbers
may be digits ("12", "3.5") or words ("twelve", "one hundred and five", "three point five");
where an operand is expected, the recogniser's usual homophones count too ("to" → 2,
"for" → 4). Operators: plus, minus, times, multiplied by, divided by, over, + - * x × / ÷,
and the forms "add A and B", "subtract A from B", "multiply A by B", "divide A by B".
"""

from __future__ import annotations

import re
from fractions import Fraction

ONES = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen".split()
    )
}
TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
SCALES = {"thousand": 10**3, "million": 10**6, "billion": 10**9}
HOMOPHONES = {"to": 2, "too": 2, "for": 4, "fore": 4, "won": 1, "ate": 8, "oh": 0}
_DIGITS = re.compile(r"\d+(?:\.\d+)?")
OPERATORS: list[tuple[tuple[str, ...], str]] = [
    (("multiplied", "by"), "*"),
    (("divided", "by"), "/"),
    (("plus",), "+"),
    (("+",), "+"),
    (("minus",), "-"),
    (("-",), "-"),
    (("times",), "*"),
    (("x",), "*"),
    (("*",), "*"),
    (("×",), "*"),
    (("over",), "/"),
    (("/",), "/"),
    (("÷",), "/"),
]
_SPOKEN = {"+": "plus", "-": "minus", "*": "times", "/": "divided by"}
PREFIX_FORMS = {"add": ("+", ("and", "to")), "multiply": ("*", ("by", "and")), "divide": ("/", ("by",))}

Parsed = tuple[Fraction, int]  # value, index of the next token


def parse_number(tokens: list[str], i: int, *, loose: bool = False) -> Parsed | None:
    """A number starting at ``tokens[i]``, or ``None``. ``loose`` accepts homophones."""
    if i >= len(tokens):
        return None
    sign = 1
    if tokens[i] == "negative":
        sign, i = -1, i + 1
    if i < len(tokens) and _DIGITS.fullmatch(tokens[i]):
        return sign * Fraction(tokens[i]), i + 1
    parsed = _number_words(tokens, i)
    if parsed is None:
        if loose and i < len(tokens) and tokens[i] in HOMOPHONES:
            return sign * Fraction(HOMOPHONES[tokens[i]]), i + 1
        return None
    value, j = parsed
    if j + 1 < len(tokens) and tokens[j] == "point":
        decimals = ""
        k = j + 1
        while k < len(tokens) and (tokens[k] in ONES and ONES[tokens[k]] < 10):
            decimals += str(ONES[tokens[k]])
            k += 1
        if decimals:
            value, j = value + Fraction(f"0.{decimals}"), k
    return sign * value, j


def _number_words(tokens: list[str], i: int) -> Parsed | None:
    total = current = 0
    last = ""  # kind of the last word: "ones", "tens", "hundred", "scale"
    j = i
    while j < len(tokens):
        word = tokens[j]
        if word == "a" and j + 1 < len(tokens) and tokens[j + 1] in ("hundred", *SCALES) and not last:
            current, last = 1, "ones"
        elif word in ONES and last in ("", "tens", "hundred", "scale"):
            if last == "tens" and ONES[word] >= 10 or (last == "tens" and ONES[word] == 0):
                break
            current += ONES[word]
            last = "ones"
        elif word in TENS and last in ("", "hundred", "scale"):
            current += TENS[word]
            last = "tens"
        elif word == "hundred" and last in ("ones", "tens") and current < 100:
            current *= 100
            last = "hundred"
        elif word in SCALES and last in ("ones", "tens", "hundred"):
            total += current * SCALES[word]
            current, last = 0, "scale"
        elif word == "and" and last in ("hundred", "scale") and j + 1 < len(tokens):
            nxt = tokens[j + 1]
            if nxt not in ONES and nxt not in TENS:
                break
        else:
            break
        j += 1
    if j == i or not last:
        return None
    return Fraction(total + current), j


def _operator(tokens: list[str], i: int) -> tuple[str, int] | None:
    for words, op in OPERATORS:
        if tuple(tokens[i : i + len(words)]) == words:
            return op, i + len(words)
    return None


def _evaluate(values: list[Fraction], ops: list[str]) -> Fraction | None:
    """Left to right, times and divide first; ``None`` on division by zero."""
    terms, signs = [values[0]], []
    for op, value in zip(ops, values[1:], strict=True):
        if op in "*/":
            if op == "/" and value == 0:
                return None
            terms[-1] = terms[-1] * value if op == "*" else terms[-1] / value
        else:
            terms.append(value)
            signs.append(op)
    result = terms[0]
    for op, term in zip(signs, terms[1:], strict=True):
        result = result + term if op == "+" else result - term
    return result


def _prefix_form(tokens: list[str]) -> tuple[str, Fraction | None] | None:
    for i, word in enumerate(tokens):
        if word == "subtract":
            a = parse_number(tokens, i + 1, loose=True)
            if a and a[1] < len(tokens) and tokens[a[1]] == "from":
                b = parse_number(tokens, a[1] + 1, loose=True)
                if b:
                    return f"{say_number(b[0])} minus {say_number(a[0])}", b[0] - a[0]
        elif word in PREFIX_FORMS:
            op, joiners = PREFIX_FORMS[word]
            a = parse_number(tokens, i + 1, loose=True)
            if a and a[1] < len(tokens) and tokens[a[1]] in joiners:
                b = parse_number(tokens, a[1] + 1, loose=True)
                if b:
                    spoken = f"{say_number(a[0])} {_SPOKEN[op]} {say_number(b[0])}"
                    return spoken, _evaluate([a[0], b[0]], [op])
    return None


def parse_expression(text: str) -> tuple[str, Fraction | None] | None:
    """The first sum in ``text`` as ``(spoken form, value)``; value ``None`` on division by zero.

    ``text`` is lower-case with operators separated by spaces. ``None`` when there is no sum.
    """
    tokens = text.split()
    prefix = _prefix_form(tokens)
    if prefix is not None:
        return prefix
    for start in range(len(tokens)):
        first = parse_number(tokens, start, loose=True)
        if first is None:
            continue
        values, ops, j = [first[0]], [], first[1]
        while (op := _operator(tokens, j)) is not None:
            operand = parse_number(tokens, op[1], loose=True)
            if operand is None:
                break
            ops.append(op[0])
            values.append(operand[0])
            j = operand[1]
        if ops:
            spoken = say_number(values[0]) + "".join(
                f" {_SPOKEN[op]} {say_number(v)}" for op, v in zip(ops, values[1:], strict=True)
            )
            return spoken, _evaluate(values, ops)
    return None


def say_number(value: Fraction) -> str:
    """A number as text a synthesizer reads well: "19", "2.5", "minus 3"."""
    if value < 0:
        return f"minus {say_number(-value)}"
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.3f}".rstrip("0").rstrip(".")
