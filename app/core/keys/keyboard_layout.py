"""The US keyboard Playwright types on: one row per physical key (``KeyboardEvent.code``).

Data only, derived once from Playwright 1.65's ``usKeyboardLayout.ts`` (the layout its
``keyboard.press`` resolves names against), so that a key name means here exactly what it means to
Playwright.  :mod:`app.core.keys` builds every accepted name from these rows; edit the rows, not
the names.

Fields: ``code``; ``key`` (``KeyboardEvent.key`` unshifted); ``key_code`` (the located virtual key
code); ``unlocated`` (the virtual key code Chromium is sent for a left/right-located key; default
``key_code``); ``shift_key``/``shift_key_code`` (what the key produces with Shift held); ``text``
(the text a key whose ``key`` is not one character types); ``location`` (``KeyboardEvent.location``:
1 left, 2 right, 3 numpad).
"""

from __future__ import annotations

from typing import NamedTuple

#: ``KeyboardEvent.location`` of the numeric keypad
KEYPAD_LOCATION = 3


class Row(NamedTuple):
    code: str
    key: str
    key_code: int
    unlocated: int = 0
    shift_key: str = ""
    shift_key_code: int = 0
    text: str = ""
    location: int = 0


US_LAYOUT: tuple[Row, ...] = (
    Row('Escape', 'Escape', 27),
    Row('F1', 'F1', 112),
    Row('F2', 'F2', 113),
    Row('F3', 'F3', 114),
    Row('F4', 'F4', 115),
    Row('F5', 'F5', 116),
    Row('F6', 'F6', 117),
    Row('F7', 'F7', 118),
    Row('F8', 'F8', 119),
    Row('F9', 'F9', 120),
    Row('F10', 'F10', 121),
    Row('F11', 'F11', 122),
    Row('F12', 'F12', 123),
    Row('Backquote', '`', 192, shift_key='~'),
    Row('Digit1', '1', 49, shift_key='!'),
    Row('Digit2', '2', 50, shift_key='@'),
    Row('Digit3', '3', 51, shift_key='#'),
    Row('Digit4', '4', 52, shift_key='$'),
    Row('Digit5', '5', 53, shift_key='%'),
    Row('Digit6', '6', 54, shift_key='^'),
    Row('Digit7', '7', 55, shift_key='&'),
    Row('Digit8', '8', 56, shift_key='*'),
    Row('Digit9', '9', 57, shift_key='('),
    Row('Digit0', '0', 48, shift_key=')'),
    Row('Minus', '-', 189, shift_key='_'),
    Row('Equal', '=', 187, shift_key='+'),
    Row('Backslash', '\\', 220, shift_key='|'),
    Row('Backspace', 'Backspace', 8),
    Row('Tab', 'Tab', 9),
    Row('KeyQ', 'q', 81, shift_key='Q'),
    Row('KeyW', 'w', 87, shift_key='W'),
    Row('KeyE', 'e', 69, shift_key='E'),
    Row('KeyR', 'r', 82, shift_key='R'),
    Row('KeyT', 't', 84, shift_key='T'),
    Row('KeyY', 'y', 89, shift_key='Y'),
    Row('KeyU', 'u', 85, shift_key='U'),
    Row('KeyI', 'i', 73, shift_key='I'),
    Row('KeyO', 'o', 79, shift_key='O'),
    Row('KeyP', 'p', 80, shift_key='P'),
    Row('BracketLeft', '[', 219, shift_key='{'),
    Row('BracketRight', ']', 221, shift_key='}'),
    Row('CapsLock', 'CapsLock', 20),
    Row('KeyA', 'a', 65, shift_key='A'),
    Row('KeyS', 's', 83, shift_key='S'),
    Row('KeyD', 'd', 68, shift_key='D'),
    Row('KeyF', 'f', 70, shift_key='F'),
    Row('KeyG', 'g', 71, shift_key='G'),
    Row('KeyH', 'h', 72, shift_key='H'),
    Row('KeyJ', 'j', 74, shift_key='J'),
    Row('KeyK', 'k', 75, shift_key='K'),
    Row('KeyL', 'l', 76, shift_key='L'),
    Row('Semicolon', ';', 186, shift_key=':'),
    Row('Quote', "'", 222, shift_key='"'),
    Row('Enter', 'Enter', 13, text='\r'),
    Row('ShiftLeft', 'Shift', 160, unlocated=16, location=1),
    Row('KeyZ', 'z', 90, shift_key='Z'),
    Row('KeyX', 'x', 88, shift_key='X'),
    Row('KeyC', 'c', 67, shift_key='C'),
    Row('KeyV', 'v', 86, shift_key='V'),
    Row('KeyB', 'b', 66, shift_key='B'),
    Row('KeyN', 'n', 78, shift_key='N'),
    Row('KeyM', 'm', 77, shift_key='M'),
    Row('Comma', ',', 188, shift_key='<'),
    Row('Period', '.', 190, shift_key='>'),
    Row('Slash', '/', 191, shift_key='?'),
    Row('ShiftRight', 'Shift', 161, unlocated=16, location=2),
    Row('ControlLeft', 'Control', 162, unlocated=17, location=1),
    Row('MetaLeft', 'Meta', 91, location=1),
    Row('AltLeft', 'Alt', 164, unlocated=18, location=1),
    Row('Space', ' ', 32),
    Row('AltRight', 'Alt', 165, unlocated=18, location=2),
    Row('AltGraph', 'AltGraph', 225),
    Row('MetaRight', 'Meta', 92, location=2),
    Row('ContextMenu', 'ContextMenu', 93),
    Row('ControlRight', 'Control', 163, unlocated=17, location=2),
    Row('PrintScreen', 'PrintScreen', 44),
    Row('ScrollLock', 'ScrollLock', 145),
    Row('Pause', 'Pause', 19),
    Row('PageUp', 'PageUp', 33),
    Row('PageDown', 'PageDown', 34),
    Row('Insert', 'Insert', 45),
    Row('Delete', 'Delete', 46),
    Row('Home', 'Home', 36),
    Row('End', 'End', 35),
    Row('ArrowLeft', 'ArrowLeft', 37),
    Row('ArrowUp', 'ArrowUp', 38),
    Row('ArrowRight', 'ArrowRight', 39),
    Row('ArrowDown', 'ArrowDown', 40),
    Row('AudioVolumeMute', 'AudioVolumeMute', 173),
    Row('AudioVolumeDown', 'AudioVolumeDown', 174),
    Row('AudioVolumeUp', 'AudioVolumeUp', 175),
    Row('MediaTrackNext', 'MediaTrackNext', 176),
    Row('MediaTrackPrevious', 'MediaTrackPrevious', 177),
    Row('MediaPlayPause', 'MediaPlayPause', 179),
    Row('NumLock', 'NumLock', 144),
    Row('NumpadDivide', '/', 111, location=3),
    Row('NumpadMultiply', '*', 106, location=3),
    Row('NumpadSubtract', '-', 109, location=3),
    Row('Numpad7', 'Home', 36, shift_key='7', shift_key_code=103, location=3),
    Row('Numpad8', 'ArrowUp', 38, shift_key='8', shift_key_code=104, location=3),
    Row('Numpad9', 'PageUp', 33, shift_key='9', shift_key_code=105, location=3),
    Row('Numpad4', 'ArrowLeft', 37, shift_key='4', shift_key_code=100, location=3),
    Row('Numpad5', 'Clear', 12, shift_key='5', shift_key_code=101, location=3),
    Row('Numpad6', 'ArrowRight', 39, shift_key='6', shift_key_code=102, location=3),
    Row('NumpadAdd', '+', 107, location=3),
    Row('Numpad1', 'End', 35, shift_key='1', shift_key_code=97, location=3),
    Row('Numpad2', 'ArrowDown', 40, shift_key='2', shift_key_code=98, location=3),
    Row('Numpad3', 'PageDown', 34, shift_key='3', shift_key_code=99, location=3),
    Row('Numpad0', 'Insert', 45, shift_key='0', shift_key_code=96, location=3),
    Row('NumpadDecimal', 'Delete', 46, shift_key='.', shift_key_code=110, location=3),
    Row('NumpadEnter', 'Enter', 13, text='\r', location=3),
)
