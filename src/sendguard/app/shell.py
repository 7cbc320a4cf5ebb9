"""The app's shell: the tray (or the main window where there is none), its menu, the
confirmation dialogs in turn, the windows, and notifications."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtGui import QAction, QFontMetrics
from PySide6.QtWidgets import (
    QInputDialog,
    QMenu,
    QMessageBox,
    QPushButton,
    QSystemTrayIcon,
    QWidget,
)

from sendguard.engine.decider import Answer, Reply

from . import i18n
from .controller import Controller, PendingBatch
from .dialog import ConfirmDialog
from .firstrun import FirstRunWindow, first_run_done
from .icons import app_icon, state_icon
from .windows import (
    ActivityWindow,
    DiagnosticsWindow,
    GroupsWindow,
    HeldWindow,
    MainWindow,
    managed_text,
    open_folder,
)

translate = QCoreApplication.translate


def no_tray_reason() -> str:
    return translate(
        "Shell",
        "No system tray was found (on GNOME, the AppIndicator extension adds one), so"
        " SendGuard shows this window instead. It keeps guarding while the window is"
        " minimised.",
    )


#: Menu lines an attention reason may take before the rest is elided.
_MENU_LINES = 5


def wrap_to_width(text: str, metrics: QFontMetrics, width: int, max_lines: int) -> list[str]:
    """`text` in lines no wider than `width`, broken between words (anywhere in text
    without spaces, such as Chinese); the last allowed line is elided if more remains."""
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines:
        if metrics.horizontalAdvance(rest) <= width or len(lines) == max_lines - 1:
            lines.append(metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width))
            break
        low, high = 1, len(rest)  # the longest start of `rest` that fits
        while low < high:
            middle = (low + high + 1) // 2
            if metrics.horizontalAdvance(rest[:middle]) <= width:
                low = middle
            else:
                high = middle - 1
        cut = low
        space = rest.rfind(" ", 0, cut + 1)
        if space > cut // 2:
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return lines


class Shell(QObject):
    """Owns the tray or the main window and every window opened from them."""

    #: A confirmation dialog was shown (for the bench and tests): the dialog.
    dialog_shown = Signal(object)
    quit_requested = Signal()

    def __init__(
        self,
        controller: Controller,
        tray_available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable,
        arm_delay_ms: int | None = None,
        ask_reason: Callable[[QWidget | None], str | None] | None = None,
    ) -> None:
        super().__init__()
        self.controller = controller
        self.tray_available = tray_available
        self.arm_delay_ms = arm_delay_ms
        self.ask_reason = ask_reason or _ask_pause_reason
        self.dialog: ConfirmDialog | None = None
        #: Who takes the answer for each file in the open dialog (its batch's reply).
        self._replies: dict[int, Reply] = {}
        self.windows: dict[str, QWidget] = {}
        self.notifications: list[tuple[str, str]] = []
        self.tray: QSystemTrayIcon | None = None
        self.main_window: MainWindow | None = None
        self.pause_button: QPushButton | None = None
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.rebuild_menu)
        self.rebuild_menu()
        if tray_available():
            self.tray = QSystemTrayIcon(state_icon(controller.state))
            self.tray.setContextMenu(self.menu)
            self.tray.setToolTip(self.tooltip())
            self.tray.activated.connect(self._tray_activated)
        else:
            self.main_window = MainWindow(controller, no_tray_reason())
            self.main_window.setWindowIcon(app_icon())
            for text, slot in self._window_actions():
                button = QPushButton(text)
                button.setAccessibleName(text)
                button.clicked.connect(slot)
                self.main_window.add_action_button(button)
                if slot == self._pause:
                    self.pause_button = button
            self._add_language_button(self.main_window)
            self._update_pause_button()
        controller.state_changed.connect(self._state_changed)
        controller.batch_ready.connect(self._batch_ready)
        controller.notification.connect(self.notify)
        controller.put_back_offered.connect(self.offer_put_back)
        #: The open "put back the group's version?" question, if any (tests drive it).
        self.put_back_box: QMessageBox | None = None
        controller.dialog_open = lambda: self.dialog is not None
        #: The first-run window is offered once, when the engine has first started.
        self._first_run_checked = False
        controller.state_changed.connect(self.show_first_run_if_needed)

    def show(self) -> None:
        if self.tray is not None:
            self.tray.show()
        elif self.main_window is not None:
            self.main_window.show()

    # --- tray ----------------------------------------------------------------------------

    def tooltip(self) -> str:
        return translate("Shell", "SendGuard — {status}").format(
            status=self.controller.status_line()
        )

    def _state_changed(self) -> None:
        if self.tray is not None:
            self.tray.setIcon(state_icon(self.controller.state))
            self.tray.setToolTip(self.tooltip())
        if self.main_window is not None:
            self.main_window.refresh()
            self._update_pause_button()

    def _update_pause_button(self) -> None:
        """The no-tray window's Pause/Resume, enabled as the menu's item is."""
        if self.pause_button is not None:
            self.pause_button.setText(self._pause_text())
            self.pause_button.setEnabled(self.controller.pause_allowed or self.controller.paused)

    def _tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            if self.dialog is not None:
                self._raise(self.dialog)
            elif self.controller.held:
                self.open_held()

    def _pause_text(self) -> str:
        if self.controller.paused:
            return translate("Shell", "Resume")
        text = translate("Shell", "Pause for 15 minutes…")
        if not self.controller.pause_allowed:
            text += " — " + managed_text()
        return text

    def rebuild_menu(self) -> None:
        """Rebuilt each time it opens, so the status line and counts are current."""
        menu = self.menu
        menu.clear()
        controller = self.controller
        for index, line in enumerate([controller.status_line(), *controller.attention[1:]]):
            # What needs attention is said in full, on a few lines of the menu's width (an
            # admin reads the file, line and fix here); beyond that, Diagnostics… has it all.
            limit = _MENU_LINES if controller.attention else 1
            for part, shown in enumerate(wrap_to_width(line, menu.fontMetrics(), 480, limit)):
                action = menu.addAction(shown)
                action.setEnabled(False)
                action.setToolTip(line)
                if index == 0 and part == 0:
                    self.status_action = action
        menu.addSeparator()
        menu.addAction(
            translate("Shell", "Held files: {count}…").format(count=len(controller.held)),
            self.open_held,
        )
        menu.addAction(translate("Shell", "Recent activity…"), self.open_activity)
        pause = menu.addAction(self._pause_text(), self._pause)
        pause.setEnabled(controller.pause_allowed or controller.paused)
        if not controller.pause_allowed:
            pause.setToolTip(managed_text())
        menu.addAction(translate("Shell", "Groups and policy…"), self.open_groups)
        menu.addAction(translate("Shell", 'Open the "Not shared" folder'), self.open_not_shared)
        menu.addAction(translate("Shell", "Diagnostics…"), self.open_diagnostics)
        menu.addAction(translate("Shell", "Getting started…"), self.open_first_run)
        menu.addMenu(self.language_menu())
        menu.addSeparator()
        quit_text = translate("Shell", "Quit")
        if not controller.quit_allowed:
            quit_text += " — " + managed_text()
        quit_action = menu.addAction(quit_text, self._quit)
        quit_action.setEnabled(controller.quit_allowed)

    def language_menu(self) -> QMenu:
        """System default, English, 简体中文: saved in app.ini, used from the next start."""
        menu = QMenu(translate("Shell", "Language"), self.menu)
        saved = i18n.saved_language(self.controller.data_dir)
        choices = [("", translate("Shell", "System default")), *i18n.LANGUAGES.items()]
        for code, name in choices:
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(code == saved)
            action.triggered.connect(lambda _checked=False, code=code: self.choose_language(code))
        return menu

    def choose_language(self, code: str) -> None:
        i18n.save_language(self.controller.data_dir, code)
        self.notify(
            translate("Shell", "Language"),
            translate("Shell", "The new language is used when SendGuard next starts."),
            "info",
        )

    def menu_actions(self) -> list[QAction]:
        return [action for action in self.menu.actions() if not action.isSeparator()]

    def _window_actions(self) -> list[tuple[str, Callable[[], object]]]:
        return [
            (translate("Shell", "Held files…"), self.open_held),
            (translate("Shell", "Recent activity…"), self.open_activity),
            (self._pause_text(), self._pause),
            (translate("Shell", "Groups and policy…"), self.open_groups),
            (translate("Shell", 'Open the "Not shared" folder'), self.open_not_shared),
            (translate("Shell", "Diagnostics…"), self.open_diagnostics),
            (translate("Shell", "Getting started…"), self.open_first_run),
            (translate("Shell", "Quit"), self._quit),
        ]

    def _add_language_button(self, window: MainWindow) -> None:
        button = QPushButton(translate("Shell", "Language"))
        button.setMenu(self.language_menu())
        window.add_action_button(button)

    # --- actions -------------------------------------------------------------------------

    def _window(self, name: str, make: Callable[[], QWidget]) -> QWidget:
        window = self.windows.get(name)
        if window is None:
            window = make()
            window.setWindowIcon(app_icon())
            self.windows[name] = window
        window.show()
        self._raise(window)
        return window

    @staticmethod
    def _raise(window: QWidget) -> None:
        window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
        window.raise_()
        window.activateWindow()

    def open_held(self) -> HeldWindow:
        def make() -> QWidget:
            window = HeldWindow(self.controller)
            window.share_requested.connect(self.ask_about_held)
            return window

        window = self._window("held", make)
        assert isinstance(window, HeldWindow)
        return window

    def open_activity(self) -> ActivityWindow:
        window = self._window("activity", lambda: ActivityWindow(self.controller))
        assert isinstance(window, ActivityWindow)
        window.refresh()
        return window

    def open_groups(self) -> GroupsWindow:
        window = self._window("groups", lambda: GroupsWindow(self.controller))
        assert isinstance(window, GroupsWindow)
        return window

    def open_diagnostics(self) -> DiagnosticsWindow:
        window = self._window(
            "diagnostics", lambda: DiagnosticsWindow(self.controller, self.tray_available)
        )
        assert isinstance(window, DiagnosticsWindow)
        window.refresh()
        return window

    def open_not_shared(self) -> None:
        open_folder(self.controller.not_shared_root)

    def show_first_run_if_needed(self) -> None:
        """Once the engine has started (or could not): the first-run window, until the user
        has dismissed it once (firstrun.py)."""
        if self._first_run_checked or not self.controller.ready:
            return
        self._first_run_checked = True
        if not first_run_done(self.controller.data_dir):
            self.open_first_run()

    def open_first_run(self) -> FirstRunWindow:
        window = self._window("first-run", lambda: FirstRunWindow(self.controller))
        assert isinstance(window, FirstRunWindow)
        return window

    def bring_forward(self) -> None:
        """A second launch asked us to show ourselves."""
        if self.dialog is not None:
            self._raise(self.dialog)
        elif self.main_window is not None:
            self.main_window.show()
            self._raise(self.main_window)
        else:
            self.open_held()

    def _pause(self) -> None:
        controller = self.controller
        if controller.paused:
            controller.resume()
            return
        if not controller.pause_allowed:
            return
        reason = self.ask_reason(self.main_window)
        if reason:
            controller.pause(reason)

    def _quit(self) -> None:
        if self.controller.quit_allowed:
            if self.main_window is not None:
                self.main_window.quitting = True
            self.quit_requested.emit()

    # --- dialogs -------------------------------------------------------------------------

    def _batch_ready(self, pending: PendingBatch) -> None:
        dialog = self.dialog
        if dialog is None:
            self._show_next()
        elif dialog.group.name == pending.batch.group.name and not dialog.answered_already:
            # More files for the group on screen: one dialog, not a queue of them.
            self.controller.pending.remove(pending)
            for item in pending.batch.items:
                self._replies[item.hold_id] = pending.reply
            dialog.add_items(pending.batch.items)

    def _show_next(self) -> None:
        pending = self.controller.next_pending()
        if pending is not None:
            self.show_dialog(pending)

    def ask_about_held(self, hold_id: int) -> None:
        pending = self.controller.batch_for(hold_id)
        if pending is None:
            return
        if self.dialog is not None:
            self._raise(self.dialog)
            return
        self.show_dialog(pending)

    def show_dialog(self, pending: PendingBatch) -> ConfirmDialog:
        dialog = (
            ConfirmDialog(pending.batch)
            if self.arm_delay_ms is None
            else ConfirmDialog(pending.batch, arm_delay_ms=self.arm_delay_ms)
        )
        dialog.setWindowIcon(app_icon())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        self.dialog = dialog
        for item in pending.batch.items:
            self._replies[item.hold_id] = pending.reply

        def answered(answers: list[Answer]) -> None:
            by_reply: dict[int, tuple[Reply, list[Answer]]] = {}
            for answer in answers:
                reply = self._replies.pop(answer.hold_id, pending.reply)
                by_reply.setdefault(id(reply), (reply, []))[1].append(answer)
            for reply, group_answers in by_reply.values():
                self.controller.answer(reply, group_answers)

        def closed() -> None:
            self.dialog = None
            self._show_next()

        dialog.answered.connect(answered)
        dialog.finished.connect(closed)
        dialog.show()
        self._raise(dialog)
        self.dialog_shown.emit(dialog)
        return dialog

    # --- notifications -----------------------------------------------------------------

    def notify(self, title: str, message: str, severity: str) -> None:
        self.notifications.append((title, message))
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            icon = (
                QSystemTrayIcon.MessageIcon.Warning
                if severity == "warning"
                else QSystemTrayIcon.MessageIcon.Information
            )
            self.tray.showMessage(title, message, icon, 8000)
        elif self.main_window is not None:
            self.main_window.show_message(title, message)

    def offer_put_back(self, path: Path, previous: Path, text: str) -> None:
        """Ask whether to put back the version the group had. Keeping the changed file is
        the default (Esc, closing); putting back is a click on the button that says so."""
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            translate("Shell", "Put back the group's version?"),
            text,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        put_back = box.addButton(
            translate("Shell", "Put back the group's version"), QMessageBox.ButtonRole.AcceptRole
        )
        keep = box.addButton(
            translate("Shell", "Keep the changed file"), QMessageBox.ButtonRole.RejectRole
        )
        for button in (put_back, keep):
            button.setAccessibleName(button.text())
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)

        def done() -> None:
            if box.clickedButton() is put_back:
                self.controller.put_back(path, previous)
            self.put_back_box = None

        box.finished.connect(done)
        self.put_back_box = box
        box.open()

    def close_all(self) -> None:
        for window in self.windows.values():
            window.close()
        self.controller.pending.clear()
        if self.dialog is not None:
            self.dialog.dismiss_unanswered()
        if self.tray is not None:
            self.tray.hide()
        if self.main_window is not None:
            self.main_window.quitting = True
            self.main_window.close()


def _ask_pause_reason(parent: QWidget | None) -> str | None:
    text, ok = QInputDialog.getText(
        parent,
        translate("Shell", "Pause SendGuard"),
        translate(
            "Shell",
            "While paused, files shared into groups are not checked. Why do you need to"
            " pause? (This is recorded.)",
        ),
    )
    return text.strip() if ok and text.strip() else None
