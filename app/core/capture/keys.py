"""Key definitions moved to :mod:`app.core.keys` (the script validator needs them without Playwright)."""

from ..keys import (
    MODIFIER_BITS,
    KeyboardState,
    KeyDef,
    KeyError_,
    key_def,
    modifier_mask,
    parse_chord,
    press_events,
)

__all__ = ["MODIFIER_BITS", "KeyDef", "KeyError_", "KeyboardState", "key_def", "modifier_mask", "parse_chord",
           "press_events"]
