"""Settings: voice, default size/fps, drafter endpoints, voice cache (size, clear), data folder, the opt-in
update check."""

from __future__ import annotations

from pathlib import Path

from app.workbench.services import (
    clear_voice_cache,
    drafter_names,
    voice_cache_size,
    voice_provider_names,
)
from app.workbench.storage import AppSettings

from .library_models import human_size
from .qt import (
    QCheckBox,
    QComboBox,
    QDesktopServices,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QUrl,
    QVBoxLayout,
    QWidget,
)
from .render_panel import FPS, SIZES


class SettingsDialog(QDialog):
    def __init__(self, settings: AppSettings, data_root: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self._settings = settings.model_copy(deep=True)
        s = self._settings

        self.voice_provider = QComboBox()
        for name in voice_provider_names():
            self.voice_provider.addItem(name, name)
        self.voice_provider.setCurrentIndex(max(0, self.voice_provider.findData(s.voice_provider)))
        self.voice = QLineEdit(s.voice or "")
        self.voice.setPlaceholderText("default voice")
        self.rate = QSpinBox()
        self.rate.setRange(50, 200)
        self.rate.setSuffix(" %")
        self.rate.setValue(round(s.voice_rate * 100))
        voice_box = QGroupBox("Voice")
        vf = QFormLayout(voice_box)
        vf.addRow("Provider", self.voice_provider)
        vf.addRow("Voice", self.voice)
        vf.addRow("Speaking rate", self.rate)

        self.size_choice = QComboBox()
        for label, w, h in SIZES:
            self.size_choice.addItem(label, f"{w}x{h}")
        self.size_choice.setCurrentIndex(max(0, self.size_choice.findData(f"{s.width}x{s.height}")))
        self.fps = QComboBox()
        for f in FPS:
            self.fps.addItem(f"{f} fps", f)
        self.fps.setCurrentIndex(max(0, self.fps.findData(s.fps)))
        video_box = QGroupBox("New projects render at")
        df = QFormLayout(video_box)
        df.addRow("Size", self.size_choice)
        df.addRow("Frame rate", self.fps)

        self.drafter = QComboBox()
        for name in drafter_names():
            self.drafter.addItem(name, name)
        self.drafter.setCurrentIndex(max(0, self.drafter.findData(s.drafter)))
        self.bedrock_region = QLineEdit(s.bedrock_region)
        self.bedrock_model = QLineEdit(s.bedrock_model)
        self.openai_url = QLineEdit(s.openai_base_url)
        self.openai_model = QLineEdit(s.openai_model)
        draft_box = QGroupBox("Drafting")
        ff = QFormLayout(draft_box)
        ff.addRow("Default drafter", self.drafter)
        ff.addRow("Bedrock region", self.bedrock_region)
        ff.addRow("Bedrock model", self.bedrock_model)
        ff.addRow("OpenAI-compatible URL", self.openai_url)
        ff.addRow("OpenAI-compatible model", self.openai_model)

        self.cache_label = QLabel()
        self.cache_label.setObjectName("cacheSize")
        self.clear_button = QPushButton("Clear cache")
        self.clear_button.setObjectName("clearCache")
        self.clear_button.clicked.connect(self._clear_cache)
        self.data_label = QLabel(str(data_root))
        self.data_label.setObjectName("dataFolder")
        self.data_label.setToolTip("Set REELWRIGHT_DATA_DIR before starting to use another folder")
        open_data = QPushButton("Open")
        open_data.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(data_root))))
        storage_box = QGroupBox("Storage")
        sf = QFormLayout(storage_box)
        crow = QHBoxLayout()
        crow.addWidget(self.cache_label, 1)
        crow.addWidget(self.clear_button)
        sf.addRow("Voice cache", crow)
        drow = QHBoxLayout()
        drow.addWidget(self.data_label, 1)
        drow.addWidget(open_data)
        sf.addRow("Data folder", drow)
        self._refresh_cache()

        self.update_check = QCheckBox("Check once a day whether a new version is out")
        self.update_check.setObjectName("updateCheck")
        self.update_check.setToolTip("Off by default. Reelwright only tells you; it never updates itself.")
        self.update_check.setChecked(s.update_check)
        self.update_feed = QLineEdit(s.update_feed_url)
        self.update_feed.setObjectName("updateFeed")
        update_box = QGroupBox("Updates")
        uf = QFormLayout(update_box)
        uf.addRow(self.update_check)
        uf.addRow("Release feed", self.update_feed)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        for box in (voice_box, video_box, draft_box, storage_box, update_box):
            lay.addWidget(box)
        lay.addWidget(buttons)

    def _refresh_cache(self) -> None:
        self.cache_label.setText(human_size(voice_cache_size()))

    def _clear_cache(self) -> None:
        freed = clear_voice_cache()
        self._refresh_cache()
        self.cache_label.setText(f"{self.cache_label.text()} (freed {human_size(freed)})")

    def result_settings(self) -> AppSettings:
        s = self._settings
        s.voice_provider = str(self.voice_provider.currentData())
        s.voice = self.voice.text().strip() or None
        s.voice_rate = self.rate.value() / 100
        w, h = (int(v) for v in str(self.size_choice.currentData()).split("x"))
        s.width, s.height = int(w), int(h)
        s.fps = int(self.fps.currentData())
        s.drafter = str(self.drafter.currentData())
        s.bedrock_region = self.bedrock_region.text().strip()
        s.bedrock_model = self.bedrock_model.text().strip()
        s.openai_base_url = self.openai_url.text().strip()
        s.openai_model = self.openai_model.text().strip()
        s.update_check = self.update_check.isChecked()
        s.update_feed_url = self.update_feed.text().strip() or s.update_feed_url
        return s
