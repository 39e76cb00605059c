"""The Languages view: the project's voiceover languages, a side-by-side translation editor, and per
language voice previews and renders.

* The list shows the base language (the cards' own narration) and every extra language of
  ``settings.languages``; Add takes a tag and a voice (provider + voice id), Remove drops a language
  and its translations.  The voice of the selected language is edited in place.
* The editor shows, per card, the base narration (read-only) beside the translation, bookmarks
  highlighted; a card whose bookmarks differ from the base narration's, or that the script's
  validation faults, shows the sentence under it.
* "Translate missing" / "Translate" (one card) ask the configured model drafter (Bedrock on the
  signed-in user's credentials, or an OpenAI-compatible endpoint) through an :class:`~app.ui.ops.Op`
  with progress and cancel in the view; "Play" voices a card in that language; "Render this language"
  and "Render all languages" render through the render controller.

Every edit is an undo step of the :class:`~app.ui.document.ScriptDocument` (a whole translation run is
one step).  Non-modal: the window stays usable while the view is open.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.core.errors import Cancelled
from app.core.languages import TranslationFailed, mark_mismatch
from app.workbench import services

from .document import ScriptDocument
from .ops import Op, error_text
from .qt import (
    QColor,
    QComboBox,
    QDialog,
    QFont,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QShortcut,
    QSplitter,
    QSyntaxHighlighter,
    Qt,
    QTextCharFormat,
    QVBoxLayout,
    QWidget,
)
from .widgets import OpBar

if TYPE_CHECKING:
    from app.cloud.client import CloudClient
    from app.workbench.storage import AppSettings

    from .controllers.renders import RenderController

LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MARK_RE = re.compile(r"""<mark\s+name\s*=\s*["'][^"']*["']\s*/?>""")
PROVIDERS = ("piper", "espeak", "polly")  # the script model's LanguageVoice.provider choices


class MarkHighlighter(QSyntaxHighlighter):
    """Draws ``<mark name="x"/>`` bookmarks as chips, so a dropped or moved one is easy to see."""

    def __init__(self, document: Any) -> None:
        super().__init__(document)
        self.fmt = QTextCharFormat()
        self.fmt.setForeground(QColor("#1d4ed8"))
        self.fmt.setBackground(QColor("#dbeafe"))
        self.fmt.setFontWeight(QFont.Weight.Bold)

    def highlightBlock(self, text: str) -> None:
        for m in MARK_RE.finditer(text):
            self.setFormat(m.start(), m.end() - m.start(), self.fmt)


def _named(widget: Any, name: str, accessible: str, tip: str) -> Any:
    widget.setObjectName(name)
    widget.setAccessibleName(accessible)
    widget.setToolTip(tip)
    return widget


class CardRow:
    """One card of the side-by-side editor: base narration | translation | Translate, Play."""

    def __init__(self, view: LanguagesDialog, row: int) -> None:
        self.view, self.row = view, row
        self.title = QLabel()
        self.title.setObjectName(f"cardTitle{row}")
        self.title.setWordWrap(True)
        self.base = _named(QPlainTextEdit(), f"baseNarration{row}", f"Card {row + 1} base narration",
                           "The card's narration in the base language (edit it in the Script view)")
        self.base.setReadOnly(True)
        self.text = _named(QPlainTextEdit(), f"translation{row}", f"Card {row + 1} translation",
                           "The translation; keep every <mark name=\"…\"/> bookmark, in the same order")
        for edit in (self.base, self.text):
            edit.setMinimumHeight(64)
            edit.setMaximumHeight(110)
            edit.setTabChangesFocus(True)
        self.highlighters = (MarkHighlighter(self.base.document()), MarkHighlighter(self.text.document()))
        self.warning = QLabel()
        self.warning.setObjectName(f"cardWarning{row}")
        self.warning.setAccessibleName(f"Card {row + 1} translation problem")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b45309;")
        self.warning.setVisible(False)
        self.translate_button = _named(QPushButton("Translate"), f"translateCard{row}",
                                       f"Translate card {row + 1}",
                                       "Translate this card with the configured model (replaces its translation)")
        self.play_button = _named(QPushButton("Play"), f"playCard{row}", f"Play card {row + 1} voice",
                                  "Voice this card's translation with the language's voice")
        self.translate_button.clicked.connect(lambda: view.translate(card_ids=[self.card_id()],
                                                                     trigger=self.translate_button))
        self.play_button.clicked.connect(lambda: view.play(self.row, self.play_button))
        self.text.textChanged.connect(self._edited)
        self._loading = False

    def card_id(self) -> str:
        return str(self.view.doc.cards.card(self.row).get("id") or "")

    def place(self, grid: QGridLayout) -> None:
        r = self.row * 2
        grid.addWidget(self.title, r, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.base, r, 1)
        grid.addWidget(self.text, r, 2)
        buttons = QVBoxLayout()
        buttons.addWidget(self.translate_button)
        buttons.addWidget(self.play_button)
        buttons.addStretch(1)
        grid.addLayout(buttons, r, 3)
        grid.addWidget(self.warning, r + 1, 2)

    def widgets(self) -> list[QWidget]:
        return [self.title, self.base, self.text, self.warning, self.translate_button, self.play_button]

    def refresh(self, lang: str, base_lang: str) -> None:
        card = self.view.doc.cards.card(self.row)
        narration = str(card.get("narration") or "")
        self.title.setText(f"<b>{self.row + 1}. {card.get('title') or card.get('id')}</b>"
                           f"<br><span style='color:#6b7280'>{card.get('id')}</span>")
        if self.base.toPlainText() != narration:
            self.base.setPlainText(narration)
        is_base = lang == base_lang
        translation = narration if is_base else str((card.get("narration_i18n") or {}).get(lang) or "")
        if self.text.toPlainText() != translation:
            self._loading = True
            self.text.setPlainText(translation)
            self._loading = False
        self.text.setReadOnly(is_base)
        self.text.setPlaceholderText("" if is_base or not narration.strip() else f"No {lang} narration yet")
        self.translate_button.setEnabled(not is_base and bool(narration.strip()))
        self.warning_text(lang, narration, translation, is_base)

    def warning_text(self, lang: str, narration: str, translation: str, is_base: bool) -> None:
        notes: list[str] = []
        if not is_base and translation.strip():
            mismatch = mark_mismatch(narration, translation)
            if mismatch:
                notes.append(mismatch)
            for p in self.view.doc.card_problems(self.row):
                if p.field == "narration_i18n" and p.where.endswith(f"› {lang}") and p.message not in notes:
                    notes.append(p.message)
        elif not is_base and narration.strip():
            notes.append(f"not translated into {lang} yet")
        self.warning.setText("⚠ " + "; ".join(notes) if notes else "")
        self.warning.setVisible(bool(notes))

    def _edited(self) -> None:
        if self._loading:
            return
        lang = self.view.current_language()
        if lang == self.view.base_language():
            return
        card = self.view.doc.cards.card(self.row)
        i18n = dict(card.get("narration_i18n") or {})
        text = self.text.toPlainText()
        if text.strip():
            i18n[lang] = text
        else:
            i18n.pop(lang, None)
        self.view.doc.set_card_field(self.row, "narration_i18n", i18n or None)


class LanguagesDialog(QDialog):
    """The Languages view (non-modal).  ``renders`` plays voices and renders; ``drafter`` names the model
    drafter to translate with; ``cloud`` gives the signed-in client (Bedrock on the user's credentials)."""

    def __init__(self, doc: ScriptDocument, renders: RenderController, drafter: Callable[[], str],
                 settings: Callable[[], AppSettings], cloud: Callable[[], CloudClient | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("languagesDialog")
        self.setAccessibleName("Languages")
        self.setWindowTitle("Languages")
        self.setModal(False)
        self.resize(1280, 760)
        self.doc, self.renders = doc, renders
        self._drafter, self._settings, self._cloud = drafter, settings, cloud
        self.rows: list[CardRow] = []
        self.translate_op: Op[dict[str, str]] | None = None

        # -- the languages
        self.language_list = _named(QListWidget(), "languageList", "Languages",
                                    "The base language (the cards' narration) and the extra voiceover languages")
        self.language_list.setMaximumWidth(300)
        self.provider = _named(QComboBox(), "languageProvider", "Voice provider",
                               "Who speaks the selected language: Piper (bundled English voice or a .onnx "
                               "model), espeak-ng (every language, robotic), Amazon Polly (cloud)")
        for p in PROVIDERS:
            self.provider.addItem(p, p)
        self.voice = _named(QComboBox(), "languageVoice", "Voice",
                            "The provider's voice id: a Piper model, an espeak-ng language, a Polly voice id")
        self.voice.setEditable(True)
        self.voice_line = self.voice.lineEdit()
        self.voice_line.setAccessibleName("Voice")  # the editable combo's text field is its own stop
        voice_box = QGroupBox("Voice of the selected language")
        vf = QFormLayout(voice_box)
        vf.addRow("Provider", self.provider)
        vf.addRow("Voice", self.voice)
        self.new_tag = _named(QLineEdit(), "newLanguageTag", "New language tag",
                              "A language tag such as de, fr or pt-BR")
        self.new_tag.setPlaceholderText("de, fr, pt-BR…")
        self.add_button = _named(QPushButton("Add language"), "addLanguageButton", "Add language",
                                 "Add this language to the project, with a voice for it")
        self.remove_button = _named(QPushButton("Remove language"), "removeLanguageButton", "Remove language",
                                    "Remove the selected language and its translations (undoable)")
        add_row = QHBoxLayout()
        add_row.addWidget(self.new_tag, 1)
        add_row.addWidget(self.add_button)
        self.list_note = QLabel()
        self.list_note.setObjectName("languagesNote")
        self.list_note.setWordWrap(True)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(QLabel("<b>Languages</b>"))
        lv.addWidget(self.language_list, 1)
        lv.addLayout(add_row)
        lv.addWidget(self.remove_button)
        lv.addWidget(voice_box)
        lv.addWidget(self.list_note)

        # -- the editor
        self.heading = QLabel()
        self.heading.setObjectName("languageHeading")
        self.translate_button = _named(QPushButton("Translate missing"), "translateMissingButton",
                                       "Translate missing", "Translate every card that has no translation yet, "
                                       "with the configured model drafter (Ctrl+T)")
        self.render_one_button = _named(QPushButton("Render this language"), "renderLanguageButton",
                                        "Render this language", "Render the video in the selected language")
        self.render_all_button = _named(QPushButton("Render all languages"), "renderAllLanguagesButton",
                                        "Render all languages", "Render one video per language "
                                        "(video.<lang>.mp4), locally")
        self.op_bar = OpBar()
        self.op_bar.setObjectName("languagesProgress")
        self.status = QLabel()
        self.status.setObjectName("languagesStatus")
        self.status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.translate_button)
        top.addWidget(self.render_one_button)
        top.addWidget(self.render_all_button)
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(2, 1)
        self.grid.setColumnMinimumWidth(0, 140)
        header_base, header_text = QLabel(), QLabel()
        header_base.setObjectName("baseHeader")
        header_text.setObjectName("translationHeader")
        self.header_base, self.header_text = header_base, header_text
        self.editor_scroll = QScrollArea()
        self.editor_scroll.setObjectName("translationEditor")
        self.editor_scroll.setWidgetResizable(True)
        self.editor_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.editor_scroll.setWidget(self.grid_host)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addLayout(top)
        heads = QHBoxLayout()
        heads.addSpacing(150)
        heads.addWidget(header_base, 1)
        heads.addWidget(header_text, 1)
        heads.addSpacing(90)
        rv.addLayout(heads)
        rv.addWidget(self.editor_scroll, 1)
        rv.addWidget(self.status)
        rv.addWidget(self.op_bar)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([280, 1000])
        lay = QVBoxLayout(self)
        lay.addWidget(split)

        self.language_list.currentRowChanged.connect(lambda _r: self.refresh())
        self.add_button.clicked.connect(self.add_from_fields)
        self.new_tag.returnPressed.connect(self.add_from_fields)
        self.remove_button.clicked.connect(self.remove_selected)
        self.provider.activated.connect(lambda _i: self._voice_edited(provider_changed=True))
        self.voice.activated.connect(lambda _i: self._voice_edited())
        self.voice_line.editingFinished.connect(self._voice_edited)
        self.translate_button.clicked.connect(lambda: self.translate(trigger=self.translate_button))
        self.render_one_button.clicked.connect(lambda: self.render_languages([self.current_language()],
                                                                   self.render_one_button))
        self.render_all_button.clicked.connect(self.render_all)
        QShortcut(QKeySequence("Ctrl+T"), self, lambda: self.translate(trigger=self.translate_button))
        doc.changed.connect(self.refresh)
        self.refresh()

    # ------------------------------------------------------------------ reading the script

    def settings_data(self) -> dict[str, Any]:
        return dict(self.doc.data.get("settings") or {})

    def base_language(self) -> str:
        return services.base_language(self.doc.data.get("settings"))

    def extra_languages(self) -> list[dict[str, Any]]:
        return [dict(x) for x in self.settings_data().get("languages") or [] if isinstance(x, dict)]

    def languages(self) -> list[str]:
        base = self.base_language()
        return [base, *[str(x.get("lang")) for x in self.extra_languages() if x.get("lang") != base]]

    def current_language(self) -> str:
        item = self.language_list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else self.base_language()

    def select_language(self, lang: str) -> None:
        for i in range(self.language_list.count()):
            if self.language_list.item(i).data(Qt.ItemDataRole.UserRole) == lang:
                self.language_list.setCurrentRow(i)
                return

    # ------------------------------------------------------------------ refreshing

    def refresh(self) -> None:
        current = self.current_language() if self.language_list.count() else None
        base = self.base_language()
        extras = {str(x.get("lang")): x for x in self.extra_languages()}
        self.language_list.blockSignals(True)
        self.language_list.clear()
        for lang in self.languages():
            if lang == base:
                label = f"{lang} — base narration"
            else:
                x = extras.get(lang, {})
                label = f"{lang} — {x.get('provider', 'piper')} {x.get('voice') or ''}".rstrip()
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, lang)
            self.language_list.addItem(item)
        langs = self.languages()
        self.language_list.setCurrentRow(langs.index(current) if current in langs else 0)
        self.language_list.blockSignals(False)
        lang = self.current_language()
        is_base = lang == base
        self.remove_button.setEnabled(not is_base)
        self.translate_button.setEnabled(not is_base and not self._translating())
        self.render_all_button.setEnabled(len(langs) > 1)
        self._show_voice(lang, extras.get(lang))
        n_cards = self.doc.cards.rowCount()
        if len(self.rows) != n_cards:
            self._rebuild(n_cards)
        missing = 0
        for row in self.rows:
            row.refresh(lang, base)
            if not is_base and row.warning.isVisible() and "not translated" in row.warning.text():
                missing += 1
        self.heading.setText(f"<b>{lang}</b> — base narration" if is_base else
                             f"<b>{base} → {lang}</b>: {n_cards - missing} of {n_cards} card(s) translated")
        self.header_base.setText(f"<b>Base narration ({base})</b>")
        self.header_text.setText(f"<b>{'Narration' if is_base else 'Translation'} ({lang})</b>")
        self.list_note.setText("" if len(langs) > 1 else "Add a language to translate the narration into it.")

    def _rebuild(self, n: int) -> None:
        for row in self.rows:
            for w in row.widgets():
                w.setParent(None)
                w.deleteLater()
        while self.grid.count():
            self.grid.takeAt(0)
        self.rows = [CardRow(self, i) for i in range(n)]
        for row in self.rows:
            row.place(self.grid)
        self.grid.setRowStretch(2 * n + 1, 1)

    def _show_voice(self, lang: str, extra: dict[str, Any] | None) -> None:
        is_base = lang == self.base_language()
        raw = extra if extra is not None else (self.settings_data().get("voice") or {})
        provider = str(raw.get("provider") or "piper")
        for w in (self.provider, self.voice):
            w.blockSignals(True)
        self.provider.setCurrentIndex(max(0, self.provider.findData(provider)))
        self._fill_voices(provider, lang)
        self.voice.setEditText(str(raw.get("voice") or ""))
        for w in (self.provider, self.voice):
            w.blockSignals(False)
        # the base voice is the script's voice (Video settings); the view edits the extra languages'
        self.provider.setEnabled(not is_base)
        self.voice.setEnabled(not is_base)

    def _fill_voices(self, provider: str, lang: str) -> None:
        self.voice.clear()
        for v in services.voice_suggestions(provider, lang):
            self.voice.addItem(v, v)

    # ------------------------------------------------------------------ editing the languages

    def add_from_fields(self) -> None:
        lang = self.new_tag.text().strip()
        if self.add_language(lang):
            self.new_tag.clear()

    def add_language(self, lang: str, provider: str | None = None, voice: str | None = None) -> bool:
        if not LANG_RE.match(lang):
            self.status.setText(f"'{lang}' is not a language tag (e.g. de, fr, pt-BR)")
            return False
        if lang in self.languages():
            self.status.setText(f"'{lang}' is already a language of this project")
            self.select_language(lang)
            return False
        provider = provider or services.default_provider_for(lang)
        suggestions = services.voice_suggestions(provider, lang)
        entry: dict[str, Any] = {"lang": lang, "provider": provider}
        chosen = voice if voice is not None else (suggestions[0] if suggestions else None)
        if chosen:
            entry["voice"] = chosen
        self.doc.set_setting("languages", [*self.extra_languages(), entry])
        self.select_language(lang)
        self.status.setText(f"Added {lang} ({provider} {chosen or ''}). Translate the cards, or type the "
                            "translations on the right.")
        return True

    def remove_selected(self) -> None:
        lang = self.current_language()
        if lang == self.base_language():
            return
        stack = self.doc.undo_stack
        stack.beginMacro(f"Remove language {lang}")
        for row in range(self.doc.cards.rowCount()):
            i18n = dict(self.doc.cards.card(row).get("narration_i18n") or {})
            if lang in i18n:
                del i18n[lang]
                self.doc.set_card_field(row, "narration_i18n", i18n or None)
        rest = [x for x in self.extra_languages() if x.get("lang") != lang]
        self.doc.set_setting("languages", rest or None)
        stack.endMacro()
        self.status.setText(f"Removed {lang} (Edit › Undo brings it back)")

    def _voice_edited(self, provider_changed: bool = False) -> None:
        lang = self.current_language()
        if lang == self.base_language():
            return
        provider = str(self.provider.currentData())
        if provider_changed:
            self._fill_voices(provider, lang)
            suggestions = services.voice_suggestions(provider, lang)
            self.voice.setEditText(suggestions[0] if suggestions else "")
        voice = self.voice.currentText().strip()
        langs = copy.deepcopy(self.extra_languages())
        for x in langs:
            if x.get("lang") == lang:
                x["provider"] = provider
                if voice:
                    x["voice"] = voice
                else:
                    x.pop("voice", None)
        self.doc.set_setting("languages", langs)

    # ------------------------------------------------------------------ translating

    def _translating(self) -> bool:
        return self.translate_op is not None

    def translate(self, card_ids: list[str] | None = None, trigger: Any = None) -> Op[dict[str, str]] | None:
        lang = self.current_language()
        if lang == self.base_language() or self._translating():
            return None
        self.doc.revalidate()
        script = self.doc.script
        if script is None:
            self.status.setText("Fix the script's problems first (the Script view shows them on the cards)")
            return None
        drafter = self._drafter()
        factory = services.translate(script, lang, drafter, self._settings(), self._cloud(), card_ids)
        what = f"card {card_ids[0]}" if card_ids and len(card_ids) == 1 else "missing cards"
        op: Op[dict[str, str]] = Op(self, factory, title=f"Translate {what} into {lang}", trigger=trigger,
                                    view=self.op_bar)
        self.translate_op = op
        self.translate_button.setEnabled(False)
        self.status.setText(f"Translating {what} into {lang} with the {drafter} drafter…")

        def done(texts: dict[str, str]) -> None:
            self.translate_op = None
            self._apply(lang, texts)
            self.status.setText(f"Translated {len(texts)} card(s) into {lang}; check the bookmarks, then play "
                                "or render." if texts else f"Every card already has a {lang} translation.")
            self.refresh()

        def failed(exc: BaseException) -> bool:
            self.translate_op = None
            if isinstance(exc, TranslationFailed):
                self._apply(lang, exc.done)
                if 0 <= exc.card_index < len(self.rows):
                    row = self.rows[exc.card_index]
                    row.warning.setText(f"⚠ {exc.message}")
                    row.warning.setVisible(True)
                    self.editor_scroll.ensureWidgetVisible(row.text)
            if isinstance(exc, Cancelled):
                self.status.setText(f"Translation into {lang} cancelled; nothing was changed")
            else:
                self.status.setText(f"✘ {error_text(exc)}")
            self.translate_button.setEnabled(True)
            return True  # shown in the view, beside the card

        op.success(done).failure(failed)
        op.run()
        return op

    def _apply(self, lang: str, texts: dict[str, str]) -> None:
        """The translations as one undo step."""
        if not texts:
            return
        rows = {str(self.doc.cards.card(r).get("id")): r for r in range(self.doc.cards.rowCount())}
        stack = self.doc.undo_stack
        stack.beginMacro(f"Translate into {lang}")
        for card_id, text in texts.items():
            row = rows.get(card_id)
            if row is None:
                continue
            i18n = dict(self.doc.cards.card(row).get("narration_i18n") or {})
            i18n[lang] = text
            self.doc.set_card_field(row, "narration_i18n", i18n)
        stack.endMacro()

    # ------------------------------------------------------------------ voice and render

    def play(self, row: int, trigger: Any = None) -> Any:
        return self.renders.play_voice(row, self.current_language(), trigger=trigger)

    def render_languages(self, languages: list[str], trigger: Any = None) -> Any:
        return self.renders.start_render(languages=languages, trigger=trigger)

    def render_all(self) -> Any:
        return self.render_languages(self.languages(), self.render_all_button)
