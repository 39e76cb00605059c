"""The script's video polish settings: camera, key badges, music bed, intro/outro title cards, poster and
preview.

:class:`VideoSettingsPanel` edits ``script.settings`` through the document's undo stack (each change is an
undo step; typing in one field or dragging the volume merges), so it autosaves and reaches the render like
any other script edit.  The widgets show the document, never the other way round: after every change
(including undo, redo, a draft or another project) the panel reloads from ``doc.data``.
:class:`VideoSettingsDialog` is the non-modal window the Script menu and the Render view open.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.infra.fs import atomic_path
from app.core.script import BUNDLED_MUSIC, Bumper, Settings

from .document import ScriptDocument
from .qt import (
    QCheckBox,
    QColor,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    Qt,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

CAMERA_LEVELS: list[tuple[str, str]] = [
    ("Off", "off"), ("Gentle push-in", "gentle"), ("Strong close-up", "strong")]
PREVIEWS: list[tuple[str, str]] = [("None", "none"), ("Animated GIF", "gif"), ("Animated WebP", "webp")]
KEY_BADGES: list[tuple[str, str]] = [
    ("Off", "off"), ("As on the rendering computer", "auto"), ("Mac (⌘ ⌥ ⇧)", "mac"),
    ("Windows (Ctrl, Alt, Win)", "windows"), ("Linux (Ctrl, Alt, Super)", "linux")]
MUSIC_NONE = ""
MUSIC_LIBRARY = "\x00library"  # the "pick an audio file…" entry, never stored
_COLOR_RE = re.compile(r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
_DEFAULTS = Settings()
_BUMPER = Bumper()

#: the library's audio files as (name, file on disk); None when the window has no library
AudioSource = Callable[[], list[tuple[str, Path]]]


def music_label(value: str) -> str:
    if value.startswith("bundled:"):
        return f"{value[len('bundled:'):].capitalize()} (bundled track)"
    return f"File: {Path(value).name}"


class BumperEditor(QGroupBox):
    """An intro or outro card: on/off (the group's check box), title, subtitle, brand colour, narration."""

    def __init__(self, panel: VideoSettingsPanel, key: str, heading: str) -> None:
        super().__init__(heading)
        self.panel, self.key = panel, key
        self.setObjectName(f"{key}Group")
        self.setCheckable(True)
        self.title_edit = QLineEdit()
        self.title_edit.setObjectName(f"{key}Title")
        self.title_edit.setMaxLength(120)
        self.title_edit.setPlaceholderText("Title (default: the script's title)" if key == "intro" else "Title")
        self.subtitle = QLineEdit()
        self.subtitle.setObjectName(f"{key}Subtitle")
        self.subtitle.setMaxLength(200)
        self.subtitle.setPlaceholderText("Subtitle")
        self.color = QLineEdit()
        self.color.setObjectName(f"{key}Color")
        self.color.setMaxLength(7)
        self.color.setFixedWidth(90)
        self.color.setToolTip("Background colour, #rrggbb")
        self.swatch = QToolButton()
        self.swatch.setObjectName(f"{key}Swatch")
        self.swatch.setToolTip("Choose the brand colour")
        self.swatch.setFixedWidth(36)
        self.narration = QLineEdit()
        self.narration.setObjectName(f"{key}Narration")
        self.narration.setPlaceholderText("Optional: what the voice says while the card shows")
        crow = QHBoxLayout()
        crow.addWidget(self.color)
        crow.addWidget(self.swatch)
        crow.addStretch(1)
        form = QFormLayout(self)
        form.addRow("Title:", self.title_edit)
        form.addRow("Subtitle:", self.subtitle)
        form.addRow("Brand colour:", crow)
        form.addRow("Narration:", self.narration)

        self.toggled.connect(self._toggled)
        for w, fld in ((self.title_edit, "title"), (self.subtitle, "subtitle"), (self.narration, "narration")):
            w.textEdited.connect(lambda text, f=fld: self._field_edited(f, text))
        self.color.textEdited.connect(self._color_edited)
        self.swatch.clicked.connect(self.choose_color)

    def value(self) -> dict[str, Any] | None:
        v = (self.panel.settings().get(self.key))
        return dict(v) if isinstance(v, dict) else None

    def load(self) -> None:
        v = self.value()
        self.setChecked(v is not None)
        if v is None:
            return  # keep what was typed: switching the card on again brings it back
        for w, fld in ((self.title_edit, "title"), (self.subtitle, "subtitle"), (self.narration, "narration")):
            text = str(v.get(fld) or "")
            if w.text() != text:
                w.setText(text)
        color = str(v.get("brand_color") or _BUMPER.brand_color)
        if self.color.text() != color:
            self.color.setText(color)
        self._show_color(color)

    def _show_color(self, color: str) -> None:
        ok = bool(_COLOR_RE.match(color))
        self.color.setStyleSheet("" if ok else "border: 1px solid #d35400")
        self.swatch.setStyleSheet(f"background: {color}; border: 1px solid #888" if ok else "")

    def _from_widgets(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title_edit.text(), "subtitle": self.subtitle.text()}
        color = self.color.text().strip() or _BUMPER.brand_color
        out["brand_color"] = color if _COLOR_RE.match(color) else _BUMPER.brand_color
        if self.narration.text().strip():
            out["narration"] = self.narration.text()
        return out

    def _toggled(self, on: bool) -> None:
        if self.panel.loading:
            return
        if on:
            if not self.color.text():
                self.color.setText(_BUMPER.brand_color)
            if self.key == "intro" and not self.title_edit.text():
                self.title_edit.setText(str(self.panel.doc.data.get("title") or ""))
            self.panel.set(self.key, self._from_widgets())
        else:
            self.panel.set(self.key, None)

    def _field_edited(self, fld: str, text: str) -> None:
        v = self.value()
        if self.panel.loading or v is None:
            return
        if fld == "narration" and not text.strip():
            v.pop(fld, None)
        else:
            v[fld] = text
        self.panel.set(self.key, v, merge=f"{self.key}.{fld}")

    def _color_edited(self, text: str) -> None:
        self._show_color(text.strip())
        self.set_color(text)

    def set_color(self, text: str) -> None:
        """Use ``text`` as the brand colour if it is one (a half-typed colour waits)."""
        v = self.value()
        text = text.strip()
        if self.panel.loading or v is None or not _COLOR_RE.match(text):
            return
        v["brand_color"] = text
        self.panel.set(self.key, v, merge=f"{self.key}.brand_color")

    def choose_color(self) -> None:
        start = QColor(self.color.text()) if _COLOR_RE.match(self.color.text()) else QColor(_BUMPER.brand_color)
        c = QColorDialog.getColor(start, self, "Brand colour")
        if c.isValid():
            self.color.setText(c.name())
            self._show_color(c.name())
            self.set_color(c.name())


class VideoSettingsPanel(QWidget):
    """Edits the polish settings of the document's script; every change is an undo step."""

    def __init__(self, doc: ScriptDocument, audio_files: AudioSource | None = None,
                 project_dir: Callable[[], Path | None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.audio_files = audio_files
        self.project_dir = project_dir
        self.loading = False

        self.camera = QComboBox()
        self.camera.setObjectName("videoCamera")
        for label, value in CAMERA_LEVELS:
            self.camera.addItem(label, value)
        self.camera.setToolTip("Zoom towards what is clicked, filled or selected (cards can override this)")

        self.key_badges = QComboBox()
        self.key_badges.setObjectName("videoKeyBadges")
        for label, value in KEY_BADGES:
            self.key_badges.addItem(label, value)
        self.key_badges.setToolTip("Show pressed shortcuts and modifier clicks on screen, with the keys your "
                                   "viewers have (ControlOrMeta is ⌘ on a Mac, Ctrl elsewhere)")

        self.music = QComboBox()
        self.music.setObjectName("videoMusic")
        self.music_volume = QSlider(Qt.Orientation.Horizontal)
        self.music_volume.setObjectName("videoMusicVolume")
        self.music_volume.setRange(0, 100)
        self.music_volume.setToolTip("Music level between narration (it ducks under the voice)")
        self.volume_label = QLabel()
        self.volume_label.setMinimumWidth(40)

        self.intro = BumperEditor(self, "intro", "Intro title card")
        self.outro = BumperEditor(self, "outro", "Outro card")

        self.poster = QCheckBox("Poster image (a PNG beside the video)")
        self.poster.setObjectName("videoPoster")
        self.preview = QComboBox()
        self.preview.setObjectName("videoPreview")
        for label, value in PREVIEWS:
            self.preview.addItem(label, value)
        self.preview.setToolTip("An animated preview of the first seconds, beside the video")

        self.problems = QLabel()
        self.problems.setObjectName("videoProblems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #d35400")

        look = QGroupBox("Camera and music")
        lf = QFormLayout(look)
        lf.addRow("Camera:", self.camera)
        lf.addRow("Key badges:", self.key_badges)
        lf.addRow("Music:", self.music)
        vrow = QHBoxLayout()
        vrow.addWidget(self.music_volume, 1)
        vrow.addWidget(self.volume_label)
        lf.addRow("Music volume:", vrow)
        outputs = QGroupBox("Extra outputs")
        of = QFormLayout(outputs)
        of.addRow(self.poster)
        of.addRow("Preview:", self.preview)
        lay = QVBoxLayout(self)
        lay.addWidget(look)
        lay.addWidget(self.intro)
        lay.addWidget(self.outro)
        lay.addWidget(outputs)
        lay.addWidget(self.problems)

        self.camera.currentIndexChanged.connect(lambda _i: self.set("camera", self.camera.currentData()))
        self.key_badges.currentIndexChanged.connect(
            lambda _i: self.set("key_badges", self.key_badges.currentData()))
        self.music.currentIndexChanged.connect(self._music_chosen)
        self.music_volume.valueChanged.connect(self._volume_moved)
        self.poster.toggled.connect(lambda on: self.set("poster", bool(on)))
        self.preview.currentIndexChanged.connect(lambda _i: self.set("preview", self.preview.currentData()))
        doc.changed.connect(self.load)
        self.load()

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

    def load(self) -> None:
        """Show the document's settings (after any change, undo or redo)."""
        self.loading = True
        try:
            self._select(self.camera, self.effective("camera"))
            self._select(self.key_badges, self.effective("key_badges"))
            self._fill_music()
            vol = self.effective("music_volume")
            pct = round(float(vol) * 100) if isinstance(vol, int | float) else 35
            if self.music_volume.value() != pct:
                self.music_volume.setValue(pct)
            self.volume_label.setText(f"{pct} %")
            self.music_volume.setEnabled(bool(self.effective("music")))
            self.intro.load()
            self.outro.load()
            self.poster.setChecked(bool(self.effective("poster")))
            self._select(self.preview, self.effective("preview"))
            probs = [p for p in self.doc.general_problems() if p.where.startswith("settings")]
            self.problems.setText("\n".join(f"⚠ {p.where}: {p.message}" for p in probs))
            self.problems.setVisible(bool(probs))
        finally:
            self.loading = False

    @staticmethod
    def _select(combo: QComboBox, value: Any) -> None:
        i = combo.findData(value)
        if i >= 0:
            combo.setCurrentIndex(i)

    # -- music

    def _fill_music(self) -> None:
        current = self.effective("music") or MUSIC_NONE
        self.music.clear()
        self.music.addItem("None", MUSIC_NONE)
        for name in BUNDLED_MUSIC:
            self.music.addItem(music_label(f"bundled:{name}"), f"bundled:{name}")
        if current and not current.startswith("bundled:"):
            self.music.addItem(music_label(current), current)
        if self.audio_files is not None:
            self.music.addItem("Audio file from the library…", MUSIC_LIBRARY)
        self._select(self.music, current)

    def _music_chosen(self, _index: int) -> None:
        if self.loading:
            return
        value = self.music.currentData()
        if value == MUSIC_LIBRARY:
            self.load()  # the combo shows the current track until a file is chosen
            self.choose_library_audio()
            return
        self.set("music", value or None)

    def _volume_moved(self, pct: int) -> None:
        self.volume_label.setText(f"{pct} %")
        self.set("music_volume", round(pct / 100.0, 2), merge="music_volume")

    def choose_library_audio(self) -> None:
        files = self.audio_files() if self.audio_files is not None else []
        if not files:
            self.problems.setText("The library has no audio files: import an MP3, WAV, OGG or FLAC first.")
            self.problems.setVisible(True)
            return
        names = [name for name, _ in files]
        name, ok = QInputDialog.getItem(self, "Music", "Audio file from the library:", names, 0, False)
        if ok and name in names:
            self.use_audio_file(name, files[names.index(name)][1])

    def use_audio_file(self, name: str, path: Path) -> str | None:
        """Copy a library audio file into the project's folder (where the render finds its assets) and
        use it as the music bed; returns the script's path for it."""
        folder = self.project_dir() if self.project_dir is not None else None
        if folder is None:
            return None
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", Path(name).name).lstrip(".") or "music"
        dest = folder / "music" / safe
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not dest.is_file() or dest.stat().st_size != path.stat().st_size:
                with atomic_path(dest) as tmp:
                    shutil.copyfile(path, tmp)
        except OSError as exc:
            self.problems.setText(f"⚠ could not copy '{name}' into the project: {exc.strerror or exc}")
            self.problems.setVisible(True)
            return None
        rel = f"music/{safe}"
        self.set("music", rel)
        return rel


class VideoSettingsDialog(QDialog):
    """The panel in a non-modal window, with its own Undo/Redo (the main window's shortcuts do not
    reach another window)."""

    def __init__(self, doc: ScriptDocument, audio_files: AudioSource | None = None,
                 project_dir: Callable[[], Path | None] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoSettingsDialog")
        self.setWindowTitle("Video settings")
        self.panel = VideoSettingsPanel(doc, audio_files, project_dir, self)
        stack = doc.undo_stack
        self.undo_button = QPushButton("Undo")
        self.undo_button.setObjectName("videoUndo")
        self.redo_button = QPushButton("Redo")
        self.redo_button.setObjectName("videoRedo")
        self.undo_button.clicked.connect(stack.undo)
        self.redo_button.clicked.connect(stack.redo)
        stack.canUndoChanged.connect(self.undo_button.setEnabled)
        stack.canRedoChanged.connect(self.redo_button.setEnabled)
        self.undo_button.setEnabled(stack.canUndo())
        self.redo_button.setEnabled(stack.canRedo())
        self.undo_button.setShortcut("Ctrl+Z")
        self.redo_button.setShortcut("Ctrl+Shift+Z")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        buttons.addButton(self.undo_button, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.addButton(self.redo_button, QDialogButtonBox.ButtonRole.ResetRole)
        note = QLabel("Changes apply to the script at once and are saved with the project; "
                      "Undo takes them back one by one.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(mid)")
        lay = QVBoxLayout(self)
        lay.addWidget(self.panel)
        lay.addStretch(1)
        lay.addWidget(note)
        lay.addWidget(buttons)
        self.resize(540, self.sizeHint().height())
