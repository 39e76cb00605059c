"""The Render view's format controls: format (16:9 720p/1080p, 9:16, 1:1, a custom size), fps, purpose
(demo, ad, long-form) with an ad's target length, captions, burned-in captions, poster and preview.

Every control edits ``script.settings`` through the document's undo stack (as the Video settings
dialog does), so the format is saved with the script, exported with it and used by every render; a
format or purpose choice applies the same presets as the CLI's ``--preset`` / ``--target``
(:mod:`app.workbench.formats`).  Below the controls, a line says what the format will do: the output
size, the CSS viewport the page is laid out at, and the planned length next to an ad's target.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from app.core.plan.presets import AD_MAX_S, AD_MIN_S, FORMATS
from app.core.plan.timeline import VoiceTiming
from app.core.script import FPS_OPTIONS, Script, Settings, plain_narration
from app.workbench import formats as wf
from app.workbench.storage import RenderRecord
from app.workbench.storyboard import with_bumpers

from .document import ScriptDocument, estimate_seconds
from .qt import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)

log = logging.getLogger(__name__)
_DEFAULTS = Settings()
PREVIEWS: list[tuple[str, str]] = [("No preview", "none"), ("GIF preview", "gif"), ("WebP preview", "webp")]
#: how long the summary waits after an edit before planning again (typing narration edits per key)
SUMMARY_DELAY_MS = 150


def _clip_key(script: Script, card: Any) -> tuple[str, str, str]:
    """What a voiced clip's timing depends on: the card, its narration and the voice."""
    return str(card.id), str(card.narration), script.settings.voice.model_dump_json()


def _named(w: Any, name: str, accessible: str, tip: str) -> Any:
    w.setObjectName(name)
    w.setAccessibleName(accessible)
    w.setToolTip(tip)
    return w


class FormatBar(QWidget):
    """The script's output format, edited in place; every change is an undo step."""

    #: the voice cache gave exact lengths for some narration (now in ``doc.measured``)
    voices_found = Signal()

    def __init__(self, doc: ScriptDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.loading = False

        self.format = _named(QComboBox(), "renderFormat", "Format",
                             "Shape and size of the video. Vertical and square re-lay the page out at a phone "
                             "width (drawn at 2×) instead of letterboxing it")
        for label, name in wf.FORMAT_CHOICES:
            self.format.addItem(label, name)
        self.format.addItem("Custom size…", wf.CUSTOM)
        self.custom_width = _named(QSpinBox(), "renderWidth", "Custom width",
                                   "Output width in pixels (even, 320–3840)")
        self.custom_width.setRange(320, 3840)
        self.custom_height = _named(QSpinBox(), "renderHeight", "Custom height",
                                    "Output height in pixels (even, 240–3840)")
        self.custom_height.setRange(240, 3840)
        for spin in (self.custom_width, self.custom_height):
            spin.setSingleStep(2)
            spin.setKeyboardTracking(False)  # one change when the number is typed, not one per digit
        self.times = QLabel("×")
        self.fps = _named(QComboBox(), "renderFps", "Frame rate", "Frames per second of the video")
        for f in FPS_OPTIONS:
            self.fps.addItem(f"{f} fps", f)
        self.purpose = _named(QComboBox(), "renderPurpose", "Purpose",
                              "Demo: as long as it takes. Ad: tightened to a target length (15–60 s slots). "
                              "Long-form: a 1–3+ minute walkthrough")
        for label, value in wf.PURPOSE_CHOICES:
            self.purpose.addItem(label, value)
        self.target = _named(QSpinBox(), "renderTargetLength", "Target length",
                             f"An ad's length: gaps, holds and waits are tightened to fit it (narration is never "
                             f"cut). Ad slots take {AD_MIN_S:g}–{AD_MAX_S:g} s")
        self.target.setRange(0, 600)
        self.target.setSingleStep(5)
        self.target.setSuffix(" s")
        self.target.setSpecialValueText("no target")
        self.target.setKeyboardTracking(False)
        self.captions = _named(QCheckBox("Captions (SRT + VTT)"), "renderCaptions", "Caption files",
                               "Write SRT and WebVTT caption files beside the video")
        self.burn = _named(QCheckBox("Burn captions in"), "renderBurnCaptions", "Burn captions into the video",
                           "Draw the captions into the picture (for feeds that play muted)")
        self.interactive = _named(QCheckBox("Interactive demo"), "renderInteractive", "Interactive demo",
                                  "Also write <name>.demo.html: a click-through demo of the same render (a still, "
                                  "a hotspot and the narration per step) that opens offline in any browser")
        self.poster = _named(QCheckBox("Poster"), "renderPoster", "Poster image",
                             "Also write <name>.poster.png: a still of the first content card")
        self.preview = _named(QComboBox(), "renderPreview", "Animated preview",
                              "Also write an animated preview of the first seconds")
        for label, value in PREVIEWS:
            self.preview.addItem(label, value)
        self.summary = _named(QLabel(), "formatSummary", "What the format does",
                              "Output size and the planned length, from the plan (before any render)")
        self.summary.setWordWrap(True)
        self.warnings = _named(QLabel(), "formatWarnings", "Format warnings", "What the purpose says about the length")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #d35400")

        row1 = QHBoxLayout()
        row1.setContentsMargins(0, 0, 0, 0)
        row1.addWidget(QLabel("Format:"))
        row1.addWidget(self.format)
        row1.addWidget(self.custom_width)
        row1.addWidget(self.times)
        row1.addWidget(self.custom_height)
        row1.addWidget(self.fps)
        row1.addSpacing(12)
        row1.addWidget(QLabel("Purpose:"))
        row1.addWidget(self.purpose)
        row1.addWidget(QLabel("Target:"))
        row1.addWidget(self.target)
        row1.addStretch(1)
        row2 = QHBoxLayout()
        row2.setContentsMargins(0, 0, 0, 0)
        row2.addWidget(self.captions)
        row2.addWidget(self.burn)
        row2.addWidget(self.interactive)
        row2.addSpacing(12)
        row2.addWidget(self.poster)
        row2.addWidget(self.preview)
        row2.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(row1)
        lay.addLayout(row2)
        lay.addWidget(self.summary)
        lay.addWidget(self.warnings)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SUMMARY_DELAY_MS)
        self._timer.timeout.connect(self.refresh_summary)
        #: voiced clips found in the voice cache: (card id, narration, voice) -> exact length and bookmarks
        self.cached_timings: dict[tuple[str, str, str], VoiceTiming] = {}
        self._lookup: asyncio.Future[Any] | None = None

        self.format.currentIndexChanged.connect(self._format_chosen)
        self.custom_width.valueChanged.connect(lambda _v: self._custom_size())
        self.custom_height.valueChanged.connect(lambda _v: self._custom_size())
        self.fps.currentIndexChanged.connect(lambda _i: self.set("fps", self.fps.currentData()))
        self.purpose.currentIndexChanged.connect(self._purpose_chosen)
        self.target.valueChanged.connect(self._target_changed)
        self.captions.toggled.connect(lambda on: self.set("captions", bool(on)))
        self.burn.toggled.connect(lambda on: self.set("burn_captions", bool(on)))
        self.interactive.toggled.connect(lambda on: self.set("interactive", bool(on)))
        self.poster.toggled.connect(lambda on: self.set("poster", bool(on)))
        self.preview.currentIndexChanged.connect(lambda _i: self.set("preview", self.preview.currentData()))
        doc.changed.connect(self.load)
        self.load()
        self.refresh_summary()

    # -- the document

    def settings(self) -> dict[str, Any]:
        s = self.doc.data.get("settings")
        return s if isinstance(s, dict) else {}

    def effective(self, key: str) -> Any:
        """A setting as the render sees it: the script's value, else the model's default."""
        return self.settings().get(key, getattr(_DEFAULTS, key))

    def set(self, key: str, value: Any, merge: str | None = None) -> None:
        """Change one setting as an undo step (nothing when it already has that value)."""
        if self.loading or self.effective(key) == value:
            return
        self.doc.set_setting(key, value, merge=merge)

    def set_many(self, changes: dict[str, Any], text: str) -> None:
        """Change several settings as one undo step."""
        changes = {k: v for k, v in changes.items() if self.effective(k) != v}
        if self.loading or not changes:
            return
        if len(changes) == 1:
            [(key, value)] = changes.items()
            self.doc.set_setting(key, value)
            return
        stack = self.doc.undo_stack
        stack.beginMacro(text)
        try:
            for key, value in changes.items():
                self.doc.set_setting(key, value)
        finally:
            stack.endMacro()

    def apply_presets(self, names: list[str], target_s: float | None = None, *, clear_target: bool = False,
                      text: str = "Change format") -> bool:
        """Apply format/purpose presets as the CLI does, as one undo step; False (and the reason shown)
        when the script's settings are not valid yet."""
        try:
            changes = wf.preset_changes(self.settings(), names, target_s, clear_target=clear_target)
        except ValueError:
            self.warnings.setText("⚠ fix the script's settings first (see the Script tab)")
            self.warnings.setVisible(True)
            self.load()
            return False
        self.set_many(changes, text)
        return True

    def load(self) -> None:
        """Show the document's settings (after any change, undo or redo) and plan the summary soon."""
        self.loading = True
        try:
            w, h = int(self.effective("width")), int(self.effective("height"))
            self._select(self.format, wf.format_of(w, h))
            custom = self.format.currentData() == wf.CUSTOM
            for widget in (self.custom_width, self.times, self.custom_height):
                widget.setVisible(custom)
            self.custom_width.setValue(w)
            self.custom_height.setValue(h)
            self._select(self.fps, self.effective("fps"))
            purpose = str(self.effective("purpose"))
            self._select(self.purpose, purpose)
            target = self.effective("target_s")
            self.target.setValue(round(float(target)) if isinstance(target, int | float) else 0)
            self.target.setEnabled(purpose == "ad" or target is not None)
            outside = isinstance(target, int | float) and not AD_MIN_S <= float(target) <= AD_MAX_S
            self.target.setStyleSheet("border: 1px solid #d35400" if outside and purpose == "ad" else "")
            self.captions.setChecked(bool(self.effective("captions")))
            self.burn.setChecked(bool(self.effective("burn_captions")))
            self.interactive.setChecked(bool(self.effective("interactive")))
            self.poster.setChecked(bool(self.effective("poster")))
            self._select(self.preview, self.effective("preview"))
        finally:
            self.loading = False
        self._timer.start()

    @staticmethod
    def _select(combo: QComboBox, value: Any) -> None:
        i = combo.findData(value)
        if i >= 0 and combo.currentIndex() != i:
            combo.setCurrentIndex(i)

    # -- choices

    def select_format(self, name: str) -> None:
        """Choose a format preset (16:9, 1080p, 9:16, 1:1) or CUSTOM (shows the size boxes)."""
        self._select(self.format, name)

    def select_size(self, width: int, height: int) -> None:
        """Use an output size (a preset's or a custom one)."""
        self.set_many({"width": width, "height": height}, "Change size")

    def _format_chosen(self, _index: int) -> None:
        if self.loading:
            return
        name = str(self.format.currentData())
        if name == wf.CUSTOM:
            for widget in (self.custom_width, self.times, self.custom_height):
                widget.setVisible(True)
            self.custom_width.setFocus()
            return
        self.apply_presets([name], text=f"Format {FORMATS[name].description}")

    def _custom_size(self) -> None:
        if self.loading:
            return
        w, h = self.custom_width.value() // 2 * 2, self.custom_height.value() // 2 * 2
        self.select_size(w, h)

    def _purpose_chosen(self, _index: int) -> None:
        if self.loading:
            return
        purpose = str(self.purpose.currentData())
        if purpose == "ad":
            target = self.effective("target_s")
            self.apply_presets(["ad"], float(target) if target is not None else wf.DEFAULT_AD_TARGET_S,
                               text="Purpose: ad")
        else:
            # a demo or long-form video takes as long as it takes: its target goes with the ad
            self.apply_presets([purpose], clear_target=True, text=f"Purpose: {purpose}")

    def _target_changed(self, value: int) -> None:
        if self.loading:
            return
        if value <= 0:
            self.set("target_s", None, merge="target_s")
            return
        value = max(5, value)  # the script's shortest target
        if self.effective("purpose") != "ad":
            self.apply_presets(["ad"], float(value), text="Target length")  # a target makes it an ad, as --target
        else:
            self.set("target_s", float(value), merge="target_s")

    # -- what the format does

    def voice_durations(self) -> tuple[list[float | VoiceTiming], bool] | None:
        """Each card's narration — its clip's timing when the voice cache has it, its length when
        measured by a voice preview, else estimated from its words — and whether any is an estimate."""
        script = self.doc.script
        if script is None:
            return None
        rate = float(script.settings.voice.rate or 1.0)
        out: list[float | VoiceTiming] = []
        estimated = False
        for card in script.cards:
            text = plain_narration(card.narration)
            cached = self.cached_timings.get(_clip_key(script, card))
            measured = self.doc.measured.get((card.id, text))
            if cached is not None:
                out.append(cached)
            elif measured is not None:
                out.append(measured)
            else:
                estimated = estimated or bool(text.strip())
                out.append(estimate_seconds(card.narration, rate))
        return out, estimated

    def look_up_voiced(self) -> asyncio.Future[Any] | None:
        """Find the cards' clips in the voice cache in a thread (a render or a voice preview left
        them), then plan again with their exact lengths; None when there is nothing to look up."""
        script = self.doc.script
        if script is None or self._lookup is not None:
            return None
        if all(_clip_key(script, c) in self.cached_timings or not plain_narration(c.narration).strip()
               for c in script.cards):
            return None
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return None
        if loop.is_closed():  # a window outliving its event loop (app shutdown, a test's teardown)
            return None
        lookup = loop.create_task(asyncio.to_thread(wf.cached_voice_timings, script))

        def done(fut: asyncio.Future[Any]) -> None:
            try:
                self._looked_up(script, fut)
            except RuntimeError:  # the window closed while the thread read the cache
                log.debug("voice cache lookup finished after the format bar was deleted")

        lookup.add_done_callback(done)
        self._lookup = lookup
        return lookup

    def _looked_up(self, script: Script, fut: asyncio.Future[Any]) -> None:
        self._lookup = None
        if fut.cancelled():
            return
        if fut.exception() is not None:
            log.warning("voice cache lookup failed: %s", fut.exception())
            return
        found: dict[str, VoiceTiming] = fut.result()
        new = False
        bplan = with_bumpers(script, script.settings, [VoiceTiming(0.0)] * len(script.cards))[0]
        for index in (bplan.intro_index, bplan.outro_index):  # the intro and outro cards' clips
            if index is None:
                continue
            bumper = bplan.script.cards[index]
            t = found.get(bumper.id)
            key = (bumper.id, plain_narration(bumper.narration))
            if t is not None and key not in self.doc.measured:
                new = True
                self.doc.measured[key] = t.duration_s
        for card in script.cards:
            t = found.get(card.id)
            if t is not None and _clip_key(script, card) not in self.cached_timings:
                new = True
                self.cached_timings[_clip_key(script, card)] = t
                # the card editor shows it as measured too
                self.doc.measured[(card.id, plain_narration(card.narration))] = t.duration_s
        if new:
            self.refresh_summary()
            self.voices_found.emit()

    def refresh_summary(self) -> wf.FormatSummary | None:
        self._timer.stop()
        settings = wf.effective_settings(self.settings())
        if settings is None:
            self.summary.setText("The script's settings have problems: see the Script tab")
            self.warnings.setVisible(False)
            return None
        script = self.doc.script
        if script is not None:
            script = script.model_copy(update={"settings": settings})
        voices = self.voice_durations()
        if voices is not None and voices[1]:
            self.look_up_voiced()
        summary = wf.summarize(settings, script, voices[0] if voices else None,
                               estimated=bool(voices and voices[1]), measured=self.doc.measured)
        text = f"{summary.size_text()}\n{summary.length_text()}"
        last = self.last_render()
        if last is not None:
            current = last[0] == wf.script_digest(self.doc.data)
            text += "\n" + wf.last_render_text(summary.planned_s, last[1], current=current)
        self.summary.setText(text)
        self.warnings.setText("\n".join(f"⚠ {w}" for w in summary.warnings))
        self.warnings.setVisible(bool(summary.warnings))
        self.last_summary = summary
        return summary

    last_summary: wf.FormatSummary | None = None
    #: the project's render history (the list itself: records fill in as renders finish)
    history: list[RenderRecord] | None = None

    def set_history(self, records: list[RenderRecord]) -> None:
        self.history = records
        self.refresh_summary()

    def last_render(self) -> tuple[str, float] | None:
        """(script digest, seconds of video) of the newest finished render of the script's own
        language, or None."""
        for r in reversed(self.history or []):
            if r.status == "Complete" and r.duration_s and r.script_digest:
                return r.script_digest, r.duration_s
        return None
