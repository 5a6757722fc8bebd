"""Qualifiers in the WMI dialect: the type WMI gives a qualifier nobody
declared, and the declared one an undeclared name most likely misspells."""

from __future__ import annotations

__all__ = ["misspelling_of", "wmi_qualifier_type"]


def _edits(a, b):
    """Optimal string alignment distance (insertions, deletions, substitutions,
    transpositions of neighbours), case-insensitive."""
    a, b = a.lower(), b.lower()
    prev2, prev = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def misspelling_of(name, declared):
    """The declared name ``name`` most likely misspells, or None."""
    allowed = 1 if len(name) < 8 else 2
    best = min(((_edits(name, d), d) for d in declared if d.lower() != name.lower()),
               default=(allowed + 1, None))
    return best[1] if best[0] <= allowed else None


def wmi_qualifier_type(value):
    """WMI's type for an undeclared qualifier's value (``Applying a Qualifier``)."""
    sample = value[0] if isinstance(value, list) and value else value
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, int):
        return "sint32" if -2**31 <= sample < 2**31 else "sint64"
    if isinstance(sample, float):
        return "real64"
    return "string"
