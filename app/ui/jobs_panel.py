"""The Cloud jobs view: every cloud job of the account, submitted from this app or elsewhere, with its
state and progress, and what can be done with it (fetch, cancel, share, open, reveal).

The widget only shows and asks; :class:`~app.ui.controllers.cloud_jobs.CloudJobsController` polls the
cloud, runs the operations and fills it.
"""

from __future__ import annotations

import time
from typing import Any

from app.workbench.cloud_jobs import ALL_VARIANTS, CloudJob

from .qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QColor,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QModelIndex,
    QPersistentModelIndex,
    QProgressBar,
    QPushButton,
    Qt,
    QTableView,
    QVBoxLayout,
    QWidget,
    Signal,
)

#: the colour each state is shown in (the Render view's palette)
STATE_COLORS = {"Submitted": "#7f8c8d", "Queued": "#7f8c8d", "Rendering": "#2980b9", "Complete": "#27ae60",
                "Failed": "#c0392b", "Cancelled": "#e67e22"}
COLUMNS = ("Job", "Project", "Format", "Submitted", "Status", "Progress", "Expires")
EXPIRES_COL = COLUMNS.index("Expires")
PROGRESS_COL = COLUMNS.index("Progress")
STATUS_COL = COLUMNS.index("Status")


def when(ts: float, now: float | None = None) -> str:
    """'14:02' today, 'Dec 04 14:02' before."""
    now = time.time() if now is None else now
    lt, ln = time.localtime(ts), time.localtime(now)
    if (lt.tm_year, lt.tm_yday) == (ln.tm_year, ln.tm_yday):
        return time.strftime("%H:%M", lt)
    return time.strftime("%b %d %H:%M", lt)


class JobsModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[CloudJob] = []

    def set_jobs(self, jobs: list[CloudJob]) -> None:
        self.beginResetModel()
        self._jobs = list(jobs)
        self.endResetModel()

    def jobs(self) -> list[CloudJob]:
        return list(self._jobs)

    def job(self, row: int) -> CloudJob | None:
        return self._jobs[row] if 0 <= row < len(self._jobs) else None

    def row_of(self, job_id: str) -> int:
        return next((i for i, j in enumerate(self._jobs) if j.job_id == job_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._jobs)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        job = self.job(index.row())
        if job is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return job.label
            if col == 1:
                return job.project_name or ("(from elsewhere)" if job.origin == "server" else "")
            if col == 2:
                return job.format
            if col == 3:
                return when(job.submitted)
            if col == EXPIRES_COL:
                return job.expires
            if col == STATUS_COL:
                return ("Fetched" if job.output and job.status == "Complete" else job.status) \
                    if job.status != "Failed" else f"Failed: {job.error or 'unknown error'}"
            if col == PROGRESS_COL:
                return "" if job.terminal else (f"{(job.progress or 0) * 100:.0f}%")
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"cloud job {job.job_id}"
            if job.expires:
                tip += f"\nits inputs and outputs are deleted from the cloud on {job.expires}"
            if job.error:
                tip += f"\n{job.error}"
            if job.output:
                tip += f"\nfetched to {job.output}"
            return tip
        if role == Qt.ItemDataRole.ForegroundRole and col == STATUS_COL:
            return QColor(STATE_COLORS.get(job.status, "#7f8c8d"))
        if role == Qt.ItemDataRole.UserRole:
            return job.job_id
        return None


def _button(text: str, name: str, tip: str) -> QPushButton:
    b = QPushButton(text)
    b.setObjectName(name)
    b.setAccessibleName(text)
    b.setToolTip(tip)
    b.setEnabled(False)
    return b


class JobsPanel(QWidget):
    """The table of jobs and the actions on the selected one."""

    refresh_requested = Signal()
    fetch_requested = Signal(object)  # CloudJob
    cancel_requested = Signal(object)
    share_requested = Signal(object)
    #: a fan-out job's share menu: (job, a variant's name or ALL_VARIANTS)
    share_variant_requested = Signal(object, str)
    open_requested = Signal(object)
    reveal_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobsPanel")
        self.setAccessibleName("Cloud jobs")
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.account = QLabel("Not signed in — sign in to see your cloud jobs")
        self.account.setObjectName("jobsAccount")
        self.account.setAccessibleName("Cloud account")
        self.refresh_button = _button("Refresh", "jobsRefresh", "Ask the cloud for every job of your account (F5)")
        self.refresh_button.setShortcut("F5")
        top.addWidget(self.account, 1)
        top.addWidget(self.refresh_button)
        lay.addLayout(top)

        self.model = JobsModel(self)
        self.table = QTableView()
        self.table.setObjectName("jobsTable")
        self.table.setAccessibleName("Cloud jobs list")
        self.table.setToolTip("Your cloud jobs, newest first; select one for its actions")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for col in range(len(COLUMNS)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        # the status takes the room left (a failure's text is long: the line under the table has it whole)
        header.setSectionResizeMode(STATUS_COL, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(PROGRESS_COL, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(PROGRESS_COL, 140)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.doubleClicked.connect(lambda _i: self._emit(self.open_requested))
        lay.addWidget(self.table, 1)

        self.detail = QLabel("")
        self.detail.setObjectName("jobsDetail")
        self.detail.setAccessibleName("Selected cloud job")
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.detail)

        row = QHBoxLayout()
        self.fetch_button = _button("Fetch", "jobsFetch",
                                    "Download the finished video into its project's render history (Ctrl+Shift+F)")
        self.fetch_button.setShortcut("Ctrl+Shift+F")
        self.cancel_button = _button("Cancel job", "jobsCancel", "Ask the cloud to stop this job")
        self.share_button = _button("Copy share link", "jobsShare",
                                    "Copy a time-limited link to the video to the clipboard (Ctrl+Shift+C)")
        self.share_button.setShortcut("Ctrl+Shift+C")
        #: set on the share button for a fan-out job: a link per variant, or all of them
        self.share_menu = QMenu(self.share_button)
        self.share_menu.setObjectName("jobsShareMenu")
        self.share_menu.setAccessibleName("Copy share link of")
        self._share_menu_job: tuple[str, tuple[str, ...]] | None = None
        self.open_button = _button("Open video", "jobsOpen", "Play the fetched video in the Render view")
        self.reveal_button = _button("Reveal in file manager", "jobsReveal",
                                     "Show the fetched video's folder in the file manager")
        for b in (self.fetch_button, self.cancel_button, self.share_button, self.open_button, self.reveal_button):
            row.addWidget(b)
        row.addStretch(1)
        lay.addLayout(row)
        self.notice = QLabel("")
        self.notice.setObjectName("jobsNotice")
        self.notice.setAccessibleName("Cloud jobs messages")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.notice)

        self.refresh_button.clicked.connect(self.refresh_requested)
        self.fetch_button.clicked.connect(lambda: self._emit(self.fetch_requested))
        self.cancel_button.clicked.connect(lambda: self._emit(self.cancel_requested))
        self.share_button.clicked.connect(lambda: self._emit(self.share_requested))
        self.open_button.clicked.connect(lambda: self._emit(self.open_requested))
        self.reveal_button.clicked.connect(lambda: self._emit(self.reveal_requested))
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self.update_actions())
        #: job ids whose fetch or cancel is running
        self.busy: set[str] = set()
        #: jobs an in-app render is following (it fetches them itself)
        self.watching: set[str] = set()
        self.signed_in = False

    # -- contents

    def set_jobs(self, jobs: list[CloudJob]) -> None:
        """Show ``jobs`` and keep the selection on the same job."""
        keep = self.selected()
        self.model.set_jobs(jobs)
        for row, job in enumerate(jobs):
            if job.terminal:
                continue
            bar = QProgressBar()
            bar.setObjectName("jobProgress")
            bar.setAccessibleName(f"Progress of {job.label}")
            bar.setRange(0, 1000)
            bar.setValue(int((job.progress or 0.0) * 1000))
            bar.setFormat(f"{(job.progress or 0.0) * 100:.0f}%" if job.status == "Rendering" else job.status)
            bar.setTextVisible(True)
            self.table.setIndexWidget(self.model.index(row, PROGRESS_COL), bar)
        if keep is not None:
            self.select(keep.job_id)
        self.update_actions()

    def select(self, job_id: str) -> bool:
        row = self.model.row_of(job_id)
        if row < 0:
            return False
        self.table.selectRow(row)
        return True

    def selected(self) -> CloudJob | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.job(rows[0].row()) if rows else None

    def set_account(self, email: str | None, polling: bool = False) -> None:
        self.signed_in = email is not None
        if email is None:
            self.account.setText("Not signed in — sign in (File › Sign in…) to see and follow your cloud jobs")
        else:
            self.account.setText(f"Cloud jobs of <b>{email}</b>"
                                 + (" · checking every few seconds while a job runs" if polling else ""))
        self.update_actions()

    def update_actions(self) -> None:
        job = self.selected()
        signed = self.signed_in
        self.refresh_button.setEnabled(signed)
        busy = job is not None and (job.job_id in self.busy or job.job_id in self.watching)
        complete = job is not None and job.status == "Complete"
        fetched = job is not None and bool(job.output)
        some_done = job is not None and job.terminal and "Complete" in job.variants.values()
        self.fetch_button.setEnabled(signed and (complete or some_done) and not busy)
        self.cancel_button.setEnabled(signed and job is not None and not job.terminal and job.job_id not in self.busy)
        self.share_button.setEnabled(signed and complete)
        self._update_share_menu(job if complete else None)
        self.open_button.setEnabled(fetched)
        self.reveal_button.setEnabled(fetched)
        if job is None:
            self.detail.setText("")
            return
        lines = [f"<b>{_esc(job.label)}</b> — cloud job <code>{job.job_id}</code>, submitted {when(job.submitted)}"]
        if job.status == "Failed":
            lines.append(f"<span style='color:{STATE_COLORS['Failed']}'>Failed: {_esc(job.error or 'unknown error')}"
                         "</span>")
        elif job.status == "Rendering":
            lines.append(_esc(job.describe() + (f" — {job.message}" if job.message else "")))
        else:
            lines.append(_esc(job.status))
        if job.variants:  # a fan-out job: one output folder per variant, all fetched together
            lines.append(f"{len(job.variants)} variants: "
                         + _esc(", ".join(f"{name} ({state})" for name, state in job.variants.items())))
        if job.output:
            lines.append(f"Fetched to {_esc(job.output)}"
                         + (" (each variant in its own folder beside it)" if job.variants else ""))
        elif job.status == "Complete":
            lines.append("Ready to fetch into " + _esc(job.project_name or "the open project"))
        self.detail.setText("<br>".join(lines))

    def _update_share_menu(self, job: CloudJob | None) -> None:
        """A fan-out job of several videos gets a menu (each variant's link, or all of them, one line each);
        any other job's button copies its one link."""
        names = tuple(n for n, state in job.variants.items() if state == "Complete") if job is not None else ()
        key = (job.job_id, names) if job is not None and len(names) > 1 else None
        if key == self._share_menu_job:
            return
        self._share_menu_job = key
        self.share_menu.clear()
        if job is None or key is None:
            self.share_button.setMenu(None)  # type: ignore[arg-type]  # Qt takes None: no menu
            self.share_button.setText("Copy share link")
            return
        for name in names:
            act = self.share_menu.addAction(f"Link to {name}")
            act.setObjectName("jobsShareVariant")
            act.setData(name)
            act.setToolTip(f"Copy a time-limited link to the {name} video")
            act.triggered.connect(lambda _checked=False, n=name: self._emit_share(n))
        self.share_menu.addSeparator()
        every = self.share_menu.addAction(f"All {len(names)} links, one line each")
        every.setObjectName("jobsShareAll")
        every.setData(ALL_VARIANTS)
        every.setToolTip("Copy a line '<variant>: <link>' for every variant")
        every.triggered.connect(lambda _checked=False: self._emit_share(ALL_VARIANTS))
        self.share_button.setText("Copy share link ▾")
        self.share_button.setMenu(self.share_menu)

    def _emit_share(self, variant: str) -> None:
        job = self.selected()
        if job is not None:
            self.share_variant_requested.emit(job, variant)

    def _emit(self, signal: Any) -> None:
        job = self.selected()
        if job is not None:
            signal.emit(job)


def _esc(text: str) -> str:
    from html import escape

    return escape(text, quote=False)
