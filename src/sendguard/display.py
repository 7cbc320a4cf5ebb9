"""Text from files shown to people: names that cannot hide what they are."""

from __future__ import annotations

import unicodedata

#: Characters that reorder or hide text: bidi controls, zero-width characters, BOM.
_INVISIBLE = {
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069",
}  # fmt: skip


def visible(text: str) -> str:
    """`text` with control, bidi and zero-width characters written as ``<U+202E>``-style escapes.

    ``"invoice\\u202eTXT.exe"`` cannot pose as ``invoiceexe.TXT`` once passed through this.
    """
    out: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if char in _INVISIBLE or category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co"):
            out.append(f"<U+{ord(char):04X}>")
        else:
            out.append(char)
    return "".join(out)
