"""The project column: project chooser, the ordered file picker, the prompt and 'Draft script'."""

from __future__ import annotations

from app.workbench.services import drafter_names

from .library_models import PickedFilesModel
from .qt import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    Qt,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from .widgets import NumberedDelegate, ReorderListView

DRAFTER_LABELS = {"offline": "Offline (built in)", "bedrock": "Amazon Bedrock", "openai": "OpenAI-compatible"}


class ProjectPanel(QWidget):
    project_chosen = Signal(int)  # project id
    new_project = Signal()
    rename_project = Signal()
    duplicate_project = Signal()
    delete_project = Signal()
    draft_requested = Signal()
    edited = Signal()  # order, prompt or drafter changed (autosave)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.projects = QComboBox()
        self.projects.setObjectName("projectChooser")
        self.projects.setAccessibleName("Project")
        self.projects.setMinimumContentsLength(18)
        self.projects.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.projects.setToolTip("The open project")
        buttons = QHBoxLayout()
        buttons.addWidget(self.projects, 1)
        for text, tip, sig in (("New", "New project (Ctrl+N)", self.new_project),
                               ("Rename", "Rename this project", self.rename_project),
                               ("Duplicate", "Duplicate this project", self.duplicate_project),
                               ("Delete", "Delete this project", self.delete_project)):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setObjectName(f"project{text}")
            b.clicked.connect(sig.emit)
            buttons.addWidget(b)

        self.picked = PickedFilesModel(self)
        self.list = ReorderListView()
        self.list.setObjectName("pickedFiles")
        self.list.setAccessibleName("Project files in reading order")
        self.list.setModel(self.picked)
        self.list.setItemDelegate(NumberedDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.list.setDragEnabled(True)
        self.list.setAcceptDrops(True)
        self.list.setDropIndicatorShown(True)
        self.list.setToolTip("The order here is the order the drafter reads.\nDrag to reorder, or "
                             "Ctrl+Up / Ctrl+Down; Delete removes.")
        self.up_button = QToolButton()
        self.up_button.setText("▲")
        self.up_button.setToolTip("Move up (Ctrl+Up)")
        self.down_button = QToolButton()
        self.down_button.setText("▼")
        self.down_button.setToolTip("Move down (Ctrl+Down)")
        self.remove_button = QToolButton()
        self.remove_button.setText("Remove")
        self.remove_button.setToolTip("Remove from the project (Delete); the file stays in the library")
        order_row = QHBoxLayout()
        order_row.addWidget(QLabel("<b>Files, in reading order</b>"))
        order_row.addStretch(1)
        order_row.addWidget(self.up_button)
        order_row.addWidget(self.down_button)
        order_row.addWidget(self.remove_button)

        self.prompt = QPlainTextEdit()
        self.prompt.setObjectName("prompt")
        self.prompt.setAccessibleName("Prompt for the drafter")
        self.prompt.setPlaceholderText("What should the video show and say? e.g. \"A two-minute tour of "
                                       "signing up and creating a first report, for new customers.\"")
        self.prompt.setMaximumHeight(130)
        self.drafter = QComboBox()
        self.drafter.setObjectName("drafterChoice")
        for name in drafter_names():
            self.drafter.addItem(DRAFTER_LABELS.get(name, name), name)
        self.draft_button = QPushButton("Draft script")
        self.draft_button.setObjectName("draftButton")
        self.draft_button.setToolTip("Draft cards from the files (in order) and the prompt (Ctrl+D)")
        self.draft_button.setDefault(True)
        draft_row = QHBoxLayout()
        draft_row.addWidget(QLabel("Drafter:"))
        draft_row.addWidget(self.drafter, 1)
        draft_row.addWidget(self.draft_button)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(QLabel("<b>Project</b>"))
        lay.addLayout(buttons)
        lay.addLayout(order_row)
        lay.addWidget(self.list, 1)
        lay.addWidget(QLabel("<b>Prompt</b>"))
        lay.addWidget(self.prompt)
        lay.addLayout(draft_row)

        self.projects.activated.connect(lambda i: self.project_chosen.emit(int(self.projects.itemData(i))))
        self.up_button.clicked.connect(self.move_up)
        self.down_button.clicked.connect(self.move_down)
        self.remove_button.clicked.connect(self.remove_selected)
        self.draft_button.clicked.connect(self.draft_requested.emit)
        self.prompt.textChanged.connect(self.edited.emit)
        self.drafter.currentIndexChanged.connect(lambda _i: self.edited.emit())
        for sig in (self.picked.rowsInserted, self.picked.rowsRemoved, self.picked.rowsMoved,
                    self.picked.layoutChanged, self.picked.modelReset):
            sig.connect(lambda *_: self.edited.emit())
        self.list.move_requested.connect(lambda d: self.move_up() if d < 0 else self.move_down())
        self.list.remove_requested.connect(self.remove_selected)

    def set_projects(self, items: list[tuple[int, str]], current: int | None) -> None:
        self.projects.blockSignals(True)
        self.projects.clear()
        for pid, name in items:
            self.projects.addItem(name, pid)
        if current is not None:
            i = self.projects.findData(current)
            if i >= 0:
                self.projects.setCurrentIndex(i)
        self.projects.blockSignals(False)

    def current_drafter(self) -> str:
        return str(self.drafter.currentData() or "offline")

    def set_drafter(self, name: str) -> None:
        i = self.drafter.findData(name)
        self.drafter.setCurrentIndex(max(i, 0))

    def _current_row(self) -> int:
        idx = self.list.currentIndex()
        return idx.row() if idx.isValid() else -1

    def move_up(self) -> None:
        row = self._current_row()
        if row > 0 and self.picked.move_up(row):
            self.list.setCurrentIndex(self.picked.index(row - 1))

    def move_down(self) -> None:
        row = self._current_row()
        if row >= 0 and self.picked.move_down(row):
            self.list.setCurrentIndex(self.picked.index(row + 1))

    def remove_selected(self) -> None:
        rows = sorted({i.row() for i in self.list.selectionModel().selectedRows()}, reverse=True)
        for r in rows:
            self.picked.removeRows(r, 1)
