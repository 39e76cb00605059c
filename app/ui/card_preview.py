"""The card editor's inline preview: progress and cancel while one card renders small, then a little
player that plays it (looping) right under the narration the user is editing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core.infra.progress import Progress

from . import qt
from .ops import Op, describe_progress
from .qt import QFrame, QHBoxLayout, QLabel, QProgressBar, QToolButton, QUrl, QVBoxLayout, QWidget

#: the player's size in the editor (16:9; a portrait preview is letterboxed)
PLAYER_W, PLAYER_H = 320, 180


class CardPreview(QFrame):
    """A :class:`~app.ui.ops.ProgressView` for the preview op, and the player that shows its video."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cardPreview")
        self.setAccessibleName("Card preview")
        self.setToolTip("This card alone, rendered small: the flow before it is replayed without filming")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._op: Op[Any] | None = None
        self.video_path: Path | None = None

        self.status = QLabel()
        self.status.setObjectName("cardPreviewStatus")
        self.status.setAccessibleName("Card preview status")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("cardPreviewProgress")
        self.progress.setAccessibleName("Card preview progress")
        self.progress.setToolTip("How far the preview has got")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.cancel_button = self._button("Cancel", "cardPreviewCancel", "Stop making the preview (Esc)",
                                          self.cancel)
        self.cancel_button.setShortcut("Esc")
        self.play_button = self._button("Pause", "cardPreviewPlay", "Play or pause the preview", self.toggle_play)
        self.close_button = self._button("✕", "cardPreviewClose", "Hide the preview", self.close_preview)
        # a placeholder until the first video: the real QVideoWidget loads Qt Multimedia
        self.video: QWidget = QLabel("The preview plays here." if qt.have_multimedia()
                                     else "Qt Multimedia is not installed: the preview cannot be played here.")
        self.video.setObjectName("cardPreviewVideo")
        self.video.setFixedSize(PLAYER_W, PLAYER_H)
        self.player: Any = None
        self.audio: Any = None

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.status, 1)
        top.addWidget(self.play_button)
        top.addWidget(self.close_button)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addLayout(top)
        lay.addLayout(bar)
        lay.addWidget(self.video)
        self._video_layout = lay
        self._show_progress(False)
        self.play_button.setEnabled(False)
        self.setVisible(False)

    def _button(self, text: str, name: str, tip: str, slot: Any) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setObjectName(name)
        b.setAccessibleName(tip.split(" (")[0])
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    def _show_progress(self, shown: bool) -> None:
        self.progress.setVisible(shown)
        self.cancel_button.setVisible(shown)
        self.cancel_button.setEnabled(shown)

    # -- ProgressView (the preview op)

    def op_started(self, op: Op[Any]) -> None:
        self._op = op
        self.setVisible(True)
        if self.player is not None:
            qt.stop_player(self.player)
        self.progress.setValue(0)
        self.status.setText(f"{op.title}: starting…")
        self._show_progress(True)

    def op_progress(self, op: Op[Any], p: Progress) -> None:
        frac = p.overall if p.overall is not None else p.fraction
        self.progress.setValue(int(frac * 1000))
        self.status.setText(f"{op.title}: {describe_progress(p)}")

    def op_finished(self, op: Op[Any]) -> None:
        self._op = None
        self._show_progress(False)

    def cancel(self) -> None:
        if self._op is not None:
            self.status.setText("Cancelling…")
            self._op.cancel()

    # -- the player

    def _ensure_player(self) -> Any:
        if self.player is None and qt.have_multimedia():
            video = qt.QVideoWidget()
            video.setObjectName("cardPreviewVideo")
            video.setAccessibleName("Card preview video")
            video.setToolTip("The card's preview, looping")
            video.setFixedSize(PLAYER_W, PLAYER_H)
            self._video_layout.replaceWidget(self.video, video)
            self.video.deleteLater()
            self.video = video
            self.player = qt.QMediaPlayer(self)
            self.audio = qt.QAudioOutput(self)
            self.player.setAudioOutput(self.audio)
            self.player.setVideoOutput(video)
            self.player.setLoops(qt.QMediaPlayer.Loops.Infinite)
            self.player.playbackStateChanged.connect(self._play_state)
        return self.player

    def show_video(self, path: Path, text: str) -> None:
        """Play a finished preview (from its start, looping) and say what it is."""
        self.video_path = Path(path)
        self.setVisible(True)
        self.status.setText(text)
        if self._ensure_player() is not None:
            self.player.setSource(QUrl())  # the same file name again: make the player reopen it
            self.player.setSource(QUrl.fromLocalFile(str(path)))
            self.player.play()
            self.play_button.setEnabled(True)

    def show_message(self, text: str) -> None:
        self.setVisible(True)
        self.status.setText(text)

    def toggle_play(self) -> None:
        if self.player is None:
            return
        if self.player.playbackState() == qt.QMediaPlayer.PlaybackState.PlayingState:
            self.player.pause()
        else:
            self.player.play()

    def _play_state(self, state: Any) -> None:
        playing = state == qt.QMediaPlayer.PlaybackState.PlayingState
        self.play_button.setText("Pause" if playing else "Play")

    def close_preview(self) -> None:
        if self._op is not None:
            self.cancel()
        self.release()
        self.setVisible(False)

    def release(self) -> None:
        """Stop playing and let go of the file (before it is replaced or the project closes)."""
        if self.player is not None:
            qt.release_player(self.player)
