"""The pure parts of camera eases made after capture (app/core/capture/postcam.py): the ease's
curve, the cursor sprite, the PNG writer's structure and the JPEG stream splitter's edge cases."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from app.core.capture.postcam import (
    IDENTITY,
    CamState,
    Ease,
    cursor_sprite,
    png_rgba,
    split_jpegs,
)


def ease_in_out_cubic(t: float) -> float:  # overlay.js's ``ease``
    return 4 * t * t * t if t < 0.5 else 1 - (-2 * t + 2) ** 3 / 2


def test_the_ease_follows_the_overlays_curve_on_the_video_clock() -> None:
    end = CamState(1.8, -300.0, -120.0)
    ease = Ease(IDENTITY, end, 22.5, 1280, 720, None)  # 0.75 s at 30 fps, as camera.ease_s plans
    for j in range(23):
        k = min(1.0, (j + 1) / 22.5)
        e = ease_in_out_cubic(k)
        assert ease.progress(j) == pytest.approx(e)
        st = ease.at(j)
        assert (st.s, st.ux, st.uy) == pytest.approx((1 + 0.8 * e, -300 * e, -120 * e))
    assert ease.at(22) == end  # the last frame is the target, exactly
    values = [ease.progress(j) for j in range(23)]
    assert values == sorted(values) and values[0] > 0


def test_the_cursor_sprite_is_the_overlays_arrow_with_its_tip_on_the_hot_spot() -> None:
    sprite = cursor_sprite(1.0, 1.0)
    rgba = np.frombuffer(sprite.rgba, np.uint8).reshape(sprite.height, sprite.width, 4)
    hx, hy = (int(v) for v in sprite.hot)
    # the outline starts at the tip: dark and opaque just inside it, nothing up and left of it
    assert rgba[hy + 1, hx + 1, 3] > 200 and rgba[hy + 1, hx + 1, :3].max() < 80
    assert rgba[: hy - 2, : hx - 2, 3].max() < 30
    # white inside the arrow, a soft shadow below it, transparent far away
    assert (rgba[hy + 12, hx + 3, :3] > 240).all() and rgba[hy + 12, hx + 3, 3] == 255
    bottom = hy - 2 + 31  # the arrow's lowest outline point (viewBox y 30, stroke 1)
    assert 0 < rgba[bottom + 2: bottom + 5, :, 3].max() < 120
    assert rgba[0, -1, 3] == 0
    # bigger for a bigger cursor and for more pixels per CSS px, same tip
    big = cursor_sprite(1.3, 2.0)
    assert big.width > 2 * sprite.width and big.height > 2 * sprite.height


def test_png_rgba_writes_a_valid_png_of_the_pixels() -> None:
    pixels = bytes(range(256)) * 3  # 12x16 RGBA
    png = png_rgba(pixels[: 12 * 16 * 4], 12, 16)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    _, tag = struct.unpack(">I4s", png[8:16])
    assert tag == b"IHDR" and struct.unpack(">IIBB", png[16:26]) == (12, 16, 8, 6)
    idat = png.index(b"IDAT")
    size = struct.unpack(">I", png[idat - 4:idat])[0]
    raw = zlib.decompress(png[idat + 4: idat + 4 + size])
    rows = [raw[y * 49: (y + 1) * 49] for y in range(16)]
    assert all(r[0] == 0 for r in rows)  # filter type none
    assert b"".join(r[1:] for r in rows) == pixels[: 12 * 16 * 4]


def test_the_splitter_waits_for_whole_jpegs_and_refuses_garbage() -> None:
    # a minimal structure: SOI, one segment, SOS with entropy data holding stuffed and restart bytes, EOI
    one = (b"\xff\xd8" + b"\xff\xe0\x00\x04ab" + b"\xff\xda\x00\x02"
           + b"\x12\xff\x00\x34\xff\xd0\x56" + b"\xff\xd9")
    stream = one + one.replace(b"\x12", b"\x99")
    for cut in range(len(stream) + 1):
        buf = bytearray(stream[:cut])
        got = split_jpegs(buf)
        buf += stream[cut:]
        got += split_jpegs(buf)
        assert got == [one, one.replace(b"\x12", b"\x99")], cut
        assert buf == b""
    with pytest.raises(ValueError):
        split_jpegs(bytearray(b"not a jpeg at all"))
