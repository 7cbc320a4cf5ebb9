"""The windows around the tray: held files, recent activity, groups and policy,
diagnostics, and the main window used where there is no tray."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sendguard.display import visible
from sendguard.policy.model import key_path
from sendguard.store.journal import Journal, JournalError

from .controller import Controller, source_in_words
from .reasons import forwarded_text

translate = QCoreApplication.translate


def managed_text() -> str:
    return translate("Policy", "Managed by your organisation")


def when(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def _cell(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def open_folder(path: Path) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class HeldWindow(QWidget):
    """The held files: group, label, file, waiting since; share, don't share, show."""

    share_requested = Signal(int)

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle(self.tr("Held files — SendGuard"))
        self.resize(760, 320)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = _table(
            [self.tr("Group"), self.tr("Level"), self.tr("File"), self.tr("Waiting since")]
        )
        self.table.setAccessibleName(self.tr("Held files"))
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.share_button = QPushButton(self.tr("Share…"))
        self.share_button.setAccessibleName(self.tr("Share the selected file…"))
        self.dont_share_button = QPushButton(self.tr("Don't share"))
        self.dont_share_button.setAccessibleName(self.tr("Don't share the selected file"))
        self.show_button = QPushButton(self.tr("Show in folder"))
        self.show_button.setAccessibleName(self.tr("Show the selected file in its folder"))
        for button in (self.share_button, self.dont_share_button, self.show_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.share_button.clicked.connect(self._share)
        self.dont_share_button.clicked.connect(self._dont_share)
        self.show_button.clicked.connect(self._show)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        controller.held_changed.connect(self.refresh)
        self._ids: list[int] = []
        self.refresh()

    def refresh(self) -> None:
        entries = sorted(self.controller.held.values(), key=lambda entry: entry.since)
        selected = self.selected_id()
        self.table.setRowCount(len(entries))
        self._ids = []
        for row, entry in enumerate(entries):
            record = entry.record
            decision = entry.decision
            level = decision.level.name if decision and decision.level else self.tr("checking…")
            if decision is not None and decision.hold_reason:
                level = self.tr("held: the policy cannot be used")
            reason = _cell(level)
            if decision is not None and decision.forwarded is not None:
                # Forwarded: that is why it is held; its label, if any, comes second.
                reason = _cell(
                    self.tr("{forwarded} — {level}").format(
                        forwarded=forwarded_text(None, decision.forwarded.source),
                        level=decision.level.name if decision.level else self.tr("no label"),
                    )
                )
                reason.setToolTip(forwarded_text(decision) or "")
            self.table.setItem(row, 0, _cell(visible(record.group_name)))
            self.table.setItem(row, 1, reason)
            self.table.setItem(row, 2, _cell(visible(record.origin.name)))
            self.table.setItem(row, 3, _cell(when(entry.since)))
            self._ids.append(record.id)
            if record.id == selected:
                self.table.selectRow(row)
        self.summary.setText(
            self.tr("Files held: {count}. Nothing is shared until you decide.").format(
                count=len(entries)
            )
            if entries
            else self.tr("No files are held.")
        )
        self._update_buttons()

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self._ids):
            return None
        return self._ids[rows[0].row()]

    def _update_buttons(self) -> None:
        hold_id = self.selected_id()
        entry = self.controller.held.get(hold_id) if hold_id is not None else None
        can_ask = entry is not None and entry.item is not None
        self.share_button.setEnabled(can_ask)
        self.share_button.setToolTip(
            ""
            if can_ask or entry is None
            else self.tr("Still being checked, or held until the policy is fixed.")
        )
        self.dont_share_button.setEnabled(can_ask)
        self.show_button.setEnabled(entry is not None)

    def _share(self) -> None:
        hold_id = self.selected_id()
        if hold_id is not None:
            self.share_requested.emit(hold_id)

    def _dont_share(self) -> None:
        hold_id = self.selected_id()
        if hold_id is not None:
            self.controller.answer_held(hold_id, share=False)

    def _show(self) -> None:
        hold_id = self.selected_id()
        entry = self.controller.held.get(hold_id) if hold_id is not None else None
        if entry is not None:
            open_folder(entry.record.held.parent)


class ActivityWindow(QWidget):
    """The decisions and arrivals from the journal (newest first), searchable. Each arrival
    says who put the file there (share, edit, download) and from what evidence; the sync
    client's downloads are hidden until asked for."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle(self.tr("Recent activity — SendGuard"))
        self.resize(820, 400)
        layout = QVBoxLayout(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search by file, group, label or decision"))
        self.search.setAccessibleName(self.tr("Search recent activity"))
        self.search.setClearButtonEnabled(True)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        self.show_downloads = QCheckBox(self.tr("Show the sync client's downloads"))
        self.show_downloads.setAccessibleName(self.tr("Show the sync client's downloads"))
        self.show_downloads.setToolTip(
            self.tr("Files the group sent: SendGuard leaves them where they are and asks nothing.")
        )
        filters.addWidget(self.show_downloads)
        layout.addLayout(filters)
        self.table = _table(
            [
                self.tr("When"),
                self.tr("Group"),
                self.tr("File"),
                self.tr("Level"),
                self.tr("Decision"),
                self.tr("Reason"),
                self.tr("Arrival"),
            ]
        )
        self.table.setAccessibleName(self.tr("Recent activity"))
        layout.addWidget(self.table, 1)
        self.search.textChanged.connect(self._filter)
        self.show_downloads.toggled.connect(self._filter)
        # Re-read the journal only while the window is shown; opening it reads it anew.
        controller.held_changed.connect(lambda: self.refresh() if self.isVisible() else None)
        # Arrivals reach the journal in batches, from the engine's own thread.
        self._timer = QTimer(self)
        self._timer.setInterval(2000)
        self._timer.timeout.connect(lambda: self.refresh() if self.isVisible() else None)
        self._timer.start()
        # Each row: its cells, and whether it is a download (hidden unless asked for).
        self.rows: list[tuple[list[str], bool]] = []
        self.refresh()

    def _arrival_words(self, kind: str) -> str:
        words = {
            "share": self.tr("shared by you"),
            "edit": self.tr("edited by you"),
            "download": self.tr("from the group"),
            "own": self.tr("SendGuard's own"),
        }
        return words.get(kind, kind)

    def _decision_words(self, state: str, decision: str | None) -> str:
        words = {
            "released": self.tr("shared after confirmation")
            if decision == "share"
            else self.tr("passed"),
            "returned": self.tr("not shared"),
            "held": self.tr("held"),
            "holding": self.tr("being held"),
            "releasing": self.tr("being shared"),
            "returning": self.tr("being returned"),
            "vanished": self.tr("gone before it was held"),
        }
        return words.get(state, state)

    def load(self) -> list[tuple[list[str], bool]]:
        path = self.controller.data_dir / "journal.sqlite3"
        if not path.exists():
            return []
        try:
            journal = Journal(path, read_only=True)
            try:
                holds = list(journal.history(500))
                arrivals = journal.arrivals(500)
            finally:
                journal.close()
        except JournalError as exc:
            error = self.tr("Recent activity cannot be read: {error}").format(error=exc)
            return [(["", "", error, "", "", "", ""], False)]
        rows: list[tuple[float, list[str], bool]] = [
            (
                record.updated,
                [
                    when(record.updated),
                    visible(record.group_name),
                    visible(record.origin.name),
                    record.level or "",
                    self._decision_words(record.state.value, record.decision),
                    " — ".join(
                        part
                        for part in (
                            forwarded_text(None, record.came_from),
                            visible(record.justification or ""),
                        )
                        if part
                    ),
                    self._arrival_words("share"),
                ],
                False,
            )
            for record in holds
        ]
        for arrival in arrivals:
            if arrival.kind == "own" or (arrival.kind == "share" and arrival.may_move):
                continue  # SendGuard's own moves; this user's shares are the holds above
            rows.append(
                (
                    arrival.time,
                    [
                        when(arrival.time),
                        visible(arrival.group_name),
                        visible(arrival.path.name),
                        "",
                        self.tr("left in place"),
                        visible(arrival.why),
                        self._arrival_words(arrival.kind),
                    ],
                    arrival.kind == "download",
                )
            )
        rows.sort(key=lambda row: row[0], reverse=True)
        return [(cells, download) for _, cells, download in rows[:500]]

    def refresh(self) -> None:
        self.rows = self.load()
        self._filter()

    def _filter(self) -> None:
        needle = self.search.text().casefold().strip()
        downloads = self.show_downloads.isChecked()
        shown = [
            row
            for row, download in self.rows
            if (downloads or not download) and (not needle or needle in " ".join(row).casefold())
        ]
        self.table.setRowCount(len(shown))
        for r, row in enumerate(shown):
            for c, text in enumerate(row):
                self.table.setItem(r, c, _cell(text))

    def visible_rows(self) -> list[list[str]]:
        return [
            [
                (cell.text() if (cell := self.table.item(r, c)) else "")
                for c in range(self.table.columnCount())
            ]
            for r in range(self.table.rowCount())
        ]


class GroupsWindow(QWidget):
    """Read-only: each group, its folders and clearance, and which values the organisation
    manages."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        policy = controller.policy
        self.setWindowTitle(self.tr("Groups and policy — SendGuard"))
        self.resize(760, 420)
        layout = QVBoxLayout(self)
        if policy.managed:
            source = next(s for s in policy.sources if s.role == "system")
            intro = self.tr("Your organisation's policy is in force: {path}").format(
                path=visible(str(source.path))
            )
        elif controller.demo:
            intro = self.tr(
                "No groups were found, so SendGuard made two demo group folders in {folder}."
                " Copy a labelled file into one to see what happens."
            ).format(folder=visible(str(controller.demo_root)))
        else:
            intro = self.tr("No organisation policy is installed; built-in settings apply.")
        header = QLabel(intro)
        header.setWordWrap(True)
        header.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(header)
        if policy.error is not None:
            error = QLabel(
                self.tr("The policy cannot be used, so every new file is held: {error}").format(
                    error=str(policy.error)
                )
            )
            error.setWordWrap(True)
            error.setTextFormat(Qt.TextFormat.PlainText)
            layout.addWidget(error)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(
            [
                self.tr("Group / folder"),
                self.tr("Cleared for"),
                self.tr("Members"),
                self.tr("Set by"),
            ]
        )
        self.tree.setAccessibleName(self.tr("Groups"))
        for group in policy.groups:
            key = key_path("groups", group.name, "clearance")
            locked = policy.is_locked(key)
            members = "" if group.members is None else str(group.members)
            if group.external:
                members = self.tr("{members} (includes outsiders)").format(members=members)
            set_by = managed_text() if locked else source_in_words(group.source)
            item = QTreeWidgetItem([visible(group.name), str(group.clearance), members, set_by])
            item.setToolTip(3, managed_text() if locked else "")
            if locked:
                item.setDisabled(True)
            for folder in group.folders:
                child = QTreeWidgetItem([visible(str(folder)), "", "", ""])
                if locked:
                    child.setDisabled(True)
                item.addChild(child)
            self.tree.addTopLevelItem(item)
            item.setExpanded(True)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.tree, 1)
        hash_label = QLabel(
            self.tr("Policy hash (SHA-256): {sha}").format(sha=policy.sha256 or "-")
        )
        hash_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(hash_label)


class DiagnosticsWindow(QWidget):
    def __init__(
        self,
        controller: Controller,
        tray_available: Callable[[], bool],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.tray_available = tray_available
        self.setWindowTitle(self.tr("Diagnostics — SendGuard"))
        self.resize(760, 460)
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setAccessibleName(self.tr("Diagnostics"))
        layout.addWidget(self.text, 1)
        buttons = QHBoxLayout()
        self.copy_button = QPushButton(self.tr("Copy to clipboard"))
        self.refresh_button = QPushButton(self.tr("Refresh"))
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.copy_button.clicked.connect(self.copy)
        self.refresh_button.clicked.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        rows = self.controller.diagnostics(self.tray_available())
        self.text.setPlainText("\n".join(f"{name}: {value}" for name, value in rows))

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text.toPlainText())


class MainWindow(QWidget):
    """Where there is no tray: the same actions in a small window that says why, so
    SendGuard never runs invisibly. Closing it minimises it; Quit quits.

    Laid out for what it shows, at any scale: the buttons side by side in two columns, each
    at least its size hint (never squeezed), the texts wrapped at the width the buttons
    need, and the window never smaller than all of that (`_fit`)."""

    #: Buttons side by side: all the actions in one column make a tall, narrow window.
    COLUMNS = 2
    #: The wrapped texts get at least this many average characters a line.
    READABLE_LINE = 40

    def __init__(self, controller: Controller, reason: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle(self.tr("SendGuard"))
        self.quitting = False
        layout = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        font = self.status.font()
        font.setBold(True)
        self.status.setFont(font)
        layout.addWidget(self.status)
        self.reason = QLabel(reason)
        self.reason.setWordWrap(True)
        self.reason.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.reason)
        self.last_message = QLabel()
        self.last_message.setWordWrap(True)
        self.last_message.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.last_message)
        self.buttons = QGridLayout()
        for column in range(self.COLUMNS):
            self.buttons.setColumnStretch(column, 1)
        layout.addLayout(self.buttons)
        layout.addStretch(1)  # a taller window grows below the buttons, not inside them
        controller.state_changed.connect(self.refresh)
        self.refresh()

    def add_action_button(self, button: QPushButton) -> None:
        # As wide as the column, never narrower than its text; always its own height.
        button.setSizePolicy(QSizePolicy.Policy.MinimumExpanding, QSizePolicy.Policy.Fixed)
        index = self.buttons.count()
        self.buttons.addWidget(button, index // self.COLUMNS, index % self.COLUMNS)
        self._fit()

    def refresh(self) -> None:
        self.status.setText(self.controller.status_line())

    def show_message(self, title: str, message: str) -> None:
        self.last_message.setText(f"{title}: {message}")

    def _fit(self) -> None:
        """The smallest the window may be: the buttons' and labels' minimum width (at
        least a readable line, within the screen), and at that width the height the layout
        needs with every text wrapped. Any wider, the texts need no more height."""
        layout = self.layout()
        if layout is None:
            return
        least = layout.totalMinimumSize()
        width = self.fontMetrics().averageCharWidth() * self.READABLE_LINE
        screen = self.screen()
        if screen is not None:
            width = min(width, screen.availableGeometry().width())
        width = max(width, least.width())
        height = least.height()
        if layout.hasHeightForWidth():
            height = max(height, layout.totalHeightForWidth(width))
        self.setMinimumSize(width, height)

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        # A text, a font or a button changed what the layout needs (the layout has just
        # taken it in): the window's minimum follows.
        if event.type() == QEvent.Type.LayoutRequest:
            self._fit()
        return handled

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.quitting:
            event.accept()
            return
        event.ignore()
        self.showMinimized()
