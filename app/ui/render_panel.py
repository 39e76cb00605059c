"""The render view: target, the script's format (:class:`~app.ui.format_bar.FormatBar`); progress with
stage and ETA; cancel; the in-app player with a chapter list; 'open folder'; and the project's render
history with each render's status."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.core.infra.progress import Progress
from app.core.plan.presets import FORMATS
from app.core.plan.sidecar import VideoTimeline, read_timeline_document, sidecar_for
from app.core.script import FPS_OPTIONS
from app.workbench import formats as wf
from app.workbench.storage import ProjectRenderSettings, RenderRecord
from app.workbench.storyboard import timeline_from_chapters

from . import qt
from .document import ScriptDocument
from .format_bar import FormatBar
from .ops import Op, describe_progress
from .qt import (
    QComboBox,
    QDesktopServices,
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    Qt,
    QToolButton,
    QUrl,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .timeline_strip import TimelineStrip

#: the default sizes the app's Settings dialog offers for new projects
SIZES: list[tuple[str, int, int]] = [
    ("1280 × 720 (16:9 HD)", 1280, 720),
    ("1920 × 1080 (16:9 Full HD)", 1920, 1080),
    ("854 × 480 (16:9 small)", 854, 480),
    ("1080 × 1920 (9:16 vertical)", 1080, 1920),
    ("1080 × 1080 (1:1 square)", 1080, 1080),
]
FPS = FPS_OPTIONS
STATUS_COLORS = {"Draft": "#7f8c8d", "Rendering": "#2980b9", "Complete": "#27ae60", "Failed": "#c0392b",
                 "Cancelled": "#7f8c8d"}


def video_timeline(video: Path, chapters: list[tuple[str, float]], duration_s: float) -> VideoTimeline:
    """The strip's content for a video: its ``.timeline.json`` sidecar, else its chapters."""
    try:
        return read_timeline_document(sidecar_for(video))
    except (OSError, ValueError):
        return timeline_from_chapters(chapters, duration_s)


def fmt_time(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}"


class RenderPanel(QWidget):
    render_requested = Signal()
    #: render once in another format (a preset name of :data:`app.workbench.formats.FORMAT_CHOICES`)
    #: without changing the script's
    render_as_requested = Signal(str)
    settings_changed = Signal()
    chapter_clicked = Signal(float)
    video_settings_requested = Signal()

    def __init__(self, doc: ScriptDocument | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc = doc if doc is not None else ScriptDocument(self)
        self.target = QComboBox()
        self.target.setObjectName("renderTarget")
        self.target.addItem("Local (this computer)", "local")
        self.target.addItem("Cloud (sign in first)", "cloud")
        self._set_cloud_enabled(False)
        self.target.setAccessibleName("Where to render")
        self.target.setToolTip("Render on this computer, or in the cloud when signed in")
        # the format lives in the script (saved, exported, undoable): the bar edits doc.data["settings"]
        self.formats = FormatBar(self.doc)
        self.formats.setObjectName("formatBar")
        self.fps = self.formats.fps
        self.captions = self.formats.captions
        self.burn = self.formats.burn
        self.render_as = QToolButton()
        self.render_as.setObjectName("renderAs")
        self.render_as.setText("Render as…")
        self.render_as.setAccessibleName("Render once in another format")
        self.render_as.setToolTip("Render once in another format; the script keeps its own format")
        self.render_as.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.render_as_menu = QMenu(self.render_as)
        self.render_as_menu.setObjectName("renderAsMenu")
        for label, name in wf.FORMAT_CHOICES:
            act = self.render_as_menu.addAction(label)
            act.setObjectName(f"renderAs:{name}")
            act.setToolTip(f"{FORMATS[name].description}, this render only")
            act.triggered.connect(lambda _c=False, n=name: self.render_as_requested.emit(n))
        self.render_as.setMenu(self.render_as_menu)
        self.video_settings = QPushButton("Video settings…")
        self.video_settings.setObjectName("videoSettingsButton")
        self.video_settings.setAccessibleName("Video settings")
        self.video_settings.setToolTip("Camera, music, intro/outro cards, poster and preview (saved in the script)")
        self.render_button = QPushButton("● Render video")
        self.render_button.setObjectName("renderButton")
        self.render_button.setAccessibleName("Render video")
        self.render_button.setToolTip("Render the script to an MP4 (Ctrl+R)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("renderCancel")
        self.cancel_button.setAccessibleName("Cancel the render")
        self.cancel_button.setToolTip("Stop the render; nothing is written")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setObjectName("renderProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        self.stage = QLabel("Ready")
        self.stage.setObjectName("renderStage")
        self.status = QLabel()
        self.status.setObjectName("renderStatus")
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.RichText)

        form = QHBoxLayout()
        form.addWidget(QLabel("Where:"))
        form.addWidget(self.target)
        form.addStretch(1)
        form.addWidget(self.video_settings)
        form.addWidget(self.render_button)
        form.addWidget(self.render_as)
        form.addWidget(self.cancel_button)
        caps = QVBoxLayout()
        caps.addWidget(self.formats)

        # player
        # a placeholder until the first video: the real QVideoWidget loads Qt Multimedia
        self.video: QWidget = QLabel("The video plays here after a render." if qt.have_multimedia()
                                     else "Qt Multimedia is not installed: open the folder to watch the video.")
        self.video.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.video.setObjectName("videoPlaceholder")
        self.video.setMinimumHeight(220)
        self.player: Any = None  # created with the first video: starting the media backend takes time
        self.play_button = QPushButton("▶")
        self.play_button.setObjectName("playPause")
        self.play_button.setFixedWidth(44)
        self.position = QSlider(Qt.Orientation.Horizontal)
        self.position.setObjectName("videoPosition")
        self.position.setAccessibleName("Video position")
        self.time_label = QLabel("0:00 / 0:00")
        self.open_folder = QPushButton("Open output folder")
        self.open_folder.setObjectName("openFolder")
        self.open_folder.setToolTip("Open the folder with the video, captions and poster")
        self.open_folder.setEnabled(False)
        self.reveal_button = QPushButton("Reveal")
        self.reveal_button.setObjectName("revealVideo")
        self.reveal_button.setAccessibleName("Reveal the video in the file manager")
        self.reveal_button.setToolTip("Show the video selected in the file manager")
        self.reveal_button.setEnabled(False)
        # the video's cards, narration and actions; click or Left/Right to seek
        self.strip = TimelineStrip()
        self.strip.seek_requested.connect(self.seek)
        prow = QHBoxLayout()
        prow.addWidget(self.play_button)
        prow.addWidget(self.position, 1)
        prow.addWidget(self.time_label)
        prow.addWidget(self.open_folder)
        prow.addWidget(self.reveal_button)
        self.chapters = QListWidget()
        self.chapters.setObjectName("chapterList")
        self.chapters.setAccessibleName("Chapters")
        self.chapters.setMinimumWidth(230)
        self.chapters.setMaximumWidth(320)
        self.history = QListWidget()
        self.history.setObjectName("renderHistory")
        self.history.setAccessibleName("Past renders")
        self.history.setMaximumWidth(320)

        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(QLabel("<b>Chapters</b>"))
        sl.addWidget(self.chapters, 2)
        sl.addWidget(QLabel("<b>Renders</b>"))
        sl.addWidget(self.history, 1)
        playerw = QWidget()
        pl = QVBoxLayout(playerw)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(self.video, 1)
        self._player_layout = pl
        pl.addWidget(self.strip)
        pl.addLayout(prow)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(playerw)
        split.addWidget(side)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(form)
        lay.addLayout(caps)
        lay.addWidget(self.progress)
        lay.addWidget(self.stage)
        lay.addWidget(self.status)
        lay.addWidget(split, 1)

        self._output: Path | None = None
        self._pending: Path | None = None
        self._op: Op[Any] | None = None
        self.render_button.clicked.connect(self.render_requested.emit)
        self.video_settings.clicked.connect(self.video_settings_requested.emit)
        self.cancel_button.clicked.connect(self.cancel)
        self.play_button.clicked.connect(self.toggle_play)
        self.open_folder.clicked.connect(self.reveal_output)
        self.reveal_button.clicked.connect(lambda: self._reveal(self._output))
        self.history.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.history.customContextMenuRequested.connect(self._history_menu)
        self.chapters.itemActivated.connect(self._chapter)
        self.chapters.itemClicked.connect(self._chapter)
        self.history.itemActivated.connect(self._history_item)
        self.target.currentIndexChanged.connect(lambda _i: self.settings_changed.emit())

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._pending is not None and self._ensure_player() is not None:
            self.player.setSource(QUrl.fromLocalFile(str(self._pending)))
            self._pending = None

    def _ensure_player(self) -> Any:
        if self.player is None and qt.have_multimedia():
            video = qt.QVideoWidget()
            video.setObjectName("videoWidget")
            video.setMinimumHeight(220)
            self._player_layout.replaceWidget(self.video, video)
            self.video.deleteLater()
            self.video = video
            self.player = qt.QMediaPlayer(self)
            self.audio = qt.QAudioOutput(self)
            self.player.setAudioOutput(self.audio)
            self.player.setVideoOutput(self.video)
            self.player.positionChanged.connect(self._position)
            self.player.durationChanged.connect(lambda d: self.position.setRange(0, int(d)))
            self.position.sliderMoved.connect(self.player.setPosition)
            self.player.playbackStateChanged.connect(self._play_state)
        return self.player

    # -- settings

    def _set_cloud_enabled(self, enabled: bool) -> None:
        item = self.target.model().item(1)  # type: ignore[attr-defined]
        if item is not None:
            item.setEnabled(enabled)
            item.setToolTip("" if enabled else "Sign in (Cloud › Sign in…) to render in the cloud")
        self.target.setItemText(1, "Cloud" if enabled else "Cloud (sign in first)")

    def set_cloud_enabled(self, enabled: bool) -> None:
        self._set_cloud_enabled(enabled)

    def load_settings(self, s: ProjectRenderSettings) -> None:
        """Show the project's own render settings (where it renders; the format is the script's)."""
        self.target.blockSignals(True)
        self.target.setCurrentIndex(max(0, self.target.findData(s.target)))
        self.target.blockSignals(False)

    def select_size(self, width: int, height: int) -> None:
        """Set the script's output size (an undo step)."""
        self.formats.select_size(width, height)

    def select_fps(self, fps: int) -> None:
        """Set the script's frame rate (an undo step)."""
        self.fps.setCurrentIndex(max(0, self.fps.findData(fps)))

    def current_settings(self) -> ProjectRenderSettings:
        return ProjectRenderSettings(target="cloud" if self.target.currentData() == "cloud" else "local")

    # -- a render in progress (driven by the main window's Op)

    def op_started(self, op: Op[Any]) -> None:
        self._op = op
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.stage.setText("Starting…")
        self.set_status("Rendering", "")

    def op_progress(self, op: Op[Any], p: Progress) -> None:
        frac = p.overall if p.overall is not None else p.fraction
        self.progress.setValue(int(frac * 1000))
        self.stage.setText(describe_progress(p))

    def op_finished(self, op: Op[Any]) -> None:
        self._op = None
        self.cancel_button.setEnabled(False)

    def cancel(self) -> None:
        if self._op is not None:
            self.stage.setText("Cancelling…")
            self._op.cancel()

    def set_status(self, status: str, detail: str) -> None:
        color = STATUS_COLORS.get(status, "#7f8c8d")
        from html import escape

        text = f"<b style='color:{color}'>{status}</b>"
        if detail:
            text += f" — {escape(detail).replace(chr(10), '<br>')}"
        self.status.setText(text)

    # -- results

    def show_result(self, video: Path, chapters: list[tuple[str, float]], duration_s: float,
                    *, load: bool = True) -> None:
        """Show a finished video; ``load=False`` defers opening it until the view is shown."""
        self._output = video
        self.open_folder.setEnabled(True)
        self.reveal_button.setEnabled(True)
        self.progress.setValue(1000)
        self.chapters.clear()
        for title, start in chapters:
            item = QListWidgetItem(f"{fmt_time(start)}  {title}")
            item.setData(Qt.ItemDataRole.UserRole, start)
            self.chapters.addItem(item)
        self.position.setRange(0, int(duration_s * 1000))
        self.show_timeline(video_timeline(video, chapters, duration_s))
        self._pending = None
        if not load:
            self._pending = video
        elif self._ensure_player() is not None:
            self.player.setSource(QUrl.fromLocalFile(str(video)))
        self.time_label.setText(f"0:00 / {fmt_time(duration_s)}")

    def set_history(self, records: list[RenderRecord]) -> None:
        self.formats.set_history(records)
        self.history.clear()
        for r in reversed(records):
            when = time.strftime("%m-%d %H:%M", time.localtime(r.started))
            text = f"{when}  {r.status}"
            if r.duration_s:
                text += f"  ({fmt_time(r.duration_s)})"
            if r.format:
                text += f"  {r.format}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, r.output)
            item.setToolTip(r.error or r.output or "")
            from .qt import QColor

            item.setForeground(QColor(STATUS_COLORS.get(r.status, "#7f8c8d")))
            self.history.addItem(item)

    def _history_item(self, item: QListWidgetItem) -> None:
        out = item.data(Qt.ItemDataRole.UserRole)
        if out and Path(out).is_file() and self._ensure_player() is not None:
            self._output = Path(out)
            self.open_folder.setEnabled(True)
            self.reveal_button.setEnabled(True)
            self.player.setSource(QUrl.fromLocalFile(out))
            self.show_timeline(video_timeline(Path(out), [], 0.0))

    def show_timeline(self, timeline: VideoTimeline) -> None:
        """What the strip under the player shows (the render's timeline sidecar, or its chapters)."""
        self.strip.set_timeline(timeline)

    def seek(self, seconds: float) -> None:
        """Move the player (and the slider, which works before the video has loaded) to ``seconds``."""
        ms = round(max(0.0, seconds) * 1000)
        self.position.setValue(ms)
        self.strip.set_position(seconds)
        if self.player is not None:
            self.player.setPosition(ms)

    def seek_to_card(self, script_index: int) -> bool:
        """Seek to where the card at ``script_index`` of the script starts in the shown video."""
        card = self.strip.timeline.card_for_script_index(script_index)
        if card is None:
            return False
        self.seek(card.start_s)
        return True

    def history_menu(self, item: QListWidgetItem) -> QMenu:
        """Play, open the folder, reveal or copy the path of a past render's video."""
        out = item.data(Qt.ItemDataRole.UserRole)
        video = Path(out) if out else None
        there = video is not None and video.is_file()
        menu = QMenu(self)
        menu.setObjectName("historyMenu")
        for text, slot in (("Play", lambda: self._history_item(item)),
                           ("Open output folder", lambda: self._open_folder(video)),
                           ("Reveal in file manager", lambda: self._reveal(video)),
                           ("Copy path", lambda: QGuiApplication.clipboard().setText(str(video)))):
            act = menu.addAction(text, slot)
            act.setEnabled(there)
        return menu

    def _history_menu(self, pos: Any) -> None:
        item = self.history.itemAt(pos)
        if item is not None:
            self.history_menu(item).popup(self.history.viewport().mapToGlobal(pos))

    def _open_folder(self, video: Path | None) -> None:
        if video is not None and video.parent.is_dir():
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(video.parent)))

    def _reveal(self, video: Path | None) -> None:
        from .reveal import reveal

        if video is None or not reveal(video):
            self.status.setText("The video is no longer there: it was moved or deleted.")

    def _chapter(self, item: QListWidgetItem) -> None:
        start = float(item.data(Qt.ItemDataRole.UserRole) or 0.0)
        if self.player is not None:
            self.player.setPosition(int(start * 1000))
        self.chapter_clicked.emit(start)

    def toggle_play(self) -> None:
        if self.player is None:
            return
        if self.player.playbackState() == qt.QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def _play_state(self, state: Any) -> None:
        playing = state == qt.QMediaPlayer.PlaybackState.PlayingState
        self.play_button.setText("❚❚" if playing else "▶")

    def _position(self, ms: int) -> None:
        if not self.position.isSliderDown():
            self.position.setValue(int(ms))
        self.strip.set_position(ms / 1000)
        total = self.player.duration() if self.player is not None else 0
        self.time_label.setText(f"{fmt_time(ms / 1000)} / {fmt_time(total / 1000)}")

    def reveal_output(self) -> None:
        if self._output is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._output.parent)))
