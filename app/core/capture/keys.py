"""Key definitions moved to :mod:`app.core.keys` (the script validator needs them without Playwright)."""

from ..keys import MODIFIER_BITS, KeyDef, KeyError_, key_def, modifier_mask, parse_chord

__all__ = ["MODIFIER_BITS", "KeyDef", "KeyError_", "key_def", "modifier_mask", "parse_chord"]
