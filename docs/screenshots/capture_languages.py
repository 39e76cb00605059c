"""Regenerate docs/screenshots/languages.png: the Languages view on a four-card script with German
(one card's bookmark dropped, one card untranslated) and French.

    Xvfb :99 -screen 0 1600x1000x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb .venv/bin/python docs/screenshots/capture_languages.py docs/screenshots/languages.png
"""

import os
import sys
import tempfile
from pathlib import Path

d = Path(tempfile.mkdtemp()) / "data"
os.environ["REELWRIGHT_DATA_DIR"] = str(d)
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from app.ui.main_window import MainWindow  # noqa: E402
from app.ui.qt import QApplication, QTimer  # noqa: E402
from app.workbench.storage import ProjectData, Store  # noqa: E402

app = QApplication(sys.argv)
store = Store(d)
script = {
  "title": "Lumen tour",
  "settings": {"base_url": "http://example.invalid", "languages": [{"lang": "de", "provider": "espeak", "voice": "de"},
                                                                     {"lang": "fr", "provider": "espeak", "voice": "fr"}]},
  "cards": [
    {"id": "welcome", "title": "Welcome", "narration": "This is Lumen Tasks, the to-do list your team shares.",
     "narration_i18n": {"de": "Das ist Lumen Tasks, die Aufgabenliste, die Ihr Team teilt."},
     "actions": [{"type": "goto", "url": "/"}]},
    {"id": "sign-in", "title": "Sign in", "narration": 'Click <mark name="signin"/>Sign in and enter your email.',
     "narration_i18n": {"de": 'Klicken Sie auf <mark name="signin"/>Anmelden und geben Sie Ihre E-Mail-Adresse ein.'},
     "actions": [{"type": "click", "target": {"role": "link", "name": "Sign in"}, "at": "signin"}]},
    {"id": "add-task", "title": "Add a task", "narration": 'Type a task, then press <mark name="save"/>Add.',
     "narration_i18n": {"de": "Geben Sie eine Aufgabe ein und drücken Sie auf Hinzufügen."},
     "actions": [{"type": "click", "target": {"role": "button", "name": "Add"}, "at": "save"}]},
    {"id": "outro", "title": "Wrap-up", "narration": "That's all it takes to get your team organised.",
     "actions": []},
  ],
}
w = MainWindow(store)
w.start()
w.projects.create("Lumen tour", ProjectData(script=script))
w.resize(1500, 900)
w.show()
dlg = w.open_languages()
dlg.select_language("de")
dlg.resize(1400, 820)
dlg.move(100, 80)
def grab():
    dlg.grab().save(sys.argv[1])
    app.quit()
QTimer.singleShot(1500, grab)
app.exec()
