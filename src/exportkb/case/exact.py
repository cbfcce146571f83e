"""Exact TPP arithmetic beyond clingo's 32-bit integers: the limb representation.

clingo integers are 32-bit and wrap silently in ``*``, ``+`` and ``#sum``, but a
hyperscaler's fleet or two lines of 100,000 H100s exceed 2,147,483,647 TPP. So
every TPP magnitude the knowledge base adds up (an item's aggregate TPP, a
shipment, a usage figure, a cumulative total) travels as two integers, a *high*
and a *low* limb, with

    value = high x 1,000,000 + low,   0 <= low < 1,000,000,

and the KB compares them lexicographically, adds them with a carry and sums the
limbs of a ``#sum`` separately (see kb/README.md, "Exact arithmetic"). This
module is the Python side of that contract: the loader refuses anything beyond
:data:`TPP_BOUND` (so every limb and every intermediate value of the KB's rules
stays below 2^31), the facts split usage figures into limbs, and the
determination reassembles the figures the KB reports as ``millions(High, Low)``.
"""
from __future__ import annotations

import re
from typing import Any

#: The base of the low limb.
LIMB = 1_000_000
#: The largest TPP total (item, shipment, usage figure, usage plus shipment) the KB computes exactly.
TPP_BOUND = 10**15
#: The largest per-unit TPP, quantity or parameter: each is one clingo integer.
INT32_MAX = 2**31 - 1
#: The most item lines in one case: the low limbs of a #sum (each < 10^6) must add up below 2^31.
MAX_ITEMS = 2000
#: The largest TPP of one H100-equivalent the KB's long division handles (remainder x 1000 < 2^31).
MAX_TPP_PER_H100_EQUIVALENT = 2_147_483

_MILLIONS_RE = re.compile(r"^millions\((-?[0-9]+),(-?[0-9]+)\)$")


def split(value: int) -> tuple[int, int]:
    """(high, low) limbs of a non-negative integer at most :data:`TPP_BOUND`."""
    if not 0 <= value <= TPP_BOUND:
        raise ValueError(f"{value} is outside 0 .. {TPP_BOUND}")
    return divmod(value, LIMB)


def join(high: int, low: int) -> int:
    """The integer a pair of limbs stands for (limbs may be of either sign: an exact difference)."""
    return high * LIMB + low


def figure_value(value: Any) -> Any:
    """A figure as Python reads it from the solver: ``millions(H,L)`` becomes the exact integer.

    The solvers give a nested term as its clingo text; numbers, strings and
    constants pass through unchanged.
    """
    if isinstance(value, str):
        m = _MILLIONS_RE.match(value)
        if m:
            return join(int(m.group(1)), int(m.group(2)))
    return value
