"""The first-run window: what is watched, where held files wait, where the files not shared
go, and "Try it", which puts a labelled example into a group folder so the dialog appears.

Shown once, when the app first starts (Shell.show_first_run_if_needed); dismissing it writes
a marker in the data folder, and it is not shown again. Non-modal: it never blocks the app,
the dialog it leads to, or `--smoke-test`.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from sendguard import __version__
from sendguard.display import visible
from sendguard.engine.guard import error_in_words
from sendguard.labels import Findings, detect
from sendguard.policy import Group, Policy
from sendguard.policy.decide import Decision, decide

from .controller import Controller

translate = QCoreApplication.translate

#: In the data folder once the user has dismissed the window: it is not shown again.
MARKER = "first-run-done"
#: The example "Try it" copies. Embedded rather than read from resources/examples, which is
#: not installed with the package; the same marking as resources/examples/incident-report.txt.
EXAMPLE_NAME = "incident-report.txt"
EXAMPLE = (
    b"TLP:AMBER\n\n"
    b"Incident report 2026-114\n"
    b"Phishing wave against finance.\n\n"
    b"This is an example from SendGuard: it shows how SendGuard asks before a labelled\n"
    b"file is shared with a group. Nothing in it is real.\n"
)
#: The groups listed by name; more are counted (Groups and policy… lists them all).
MAX_GROUPS_SHOWN = 8


def first_run_done(data_dir: Path) -> bool:
    """Whether the user has dismissed the first-run window (its marker is there)."""
    try:
        return (data_dir / MARKER).is_file()
    except OSError:
        return False


def mark_first_run_done(data_dir: Path) -> bool:
    """Write the marker atomically (a temporary file renamed into place). False, and nothing
    said, when it cannot be written: the window is then shown again at the next start."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{MARKER}-", dir=data_dir)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(f"The getting-started window was dismissed (SendGuard {__version__}).\n")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, data_dir / MARKER)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:
        return False
    return True


@cache
def _example_findings(patterns: tuple[str, ...]) -> Findings | None:
    """The example's labels, found by the real label engine (a few milliseconds)."""
    try:
        with tempfile.TemporaryDirectory(prefix="sendguard-example-") as folder:
            path = Path(folder) / EXAMPLE_NAME
            path.write_bytes(EXAMPLE)
            return detect(path, name_patterns=[re.compile(p) for p in patterns])
    except OSError:
        return None


@dataclass(frozen=True)
class TryTarget:
    """Where "Try it" copies the example, and what the policy will do with it there."""

    group: Group
    folder: Path
    #: None: the example could not be scanned here (it is then tried anyway).
    decision: Decision | None

    @property
    def held(self) -> bool:
        return self.decision is None or self.decision.prompt


def try_target(policy: Policy) -> TryTarget | None:
    """The lowest-cleared group with a folder (with the demo groups: "Family", PUBLIC), where
    the example is most likely to be held. None when no group has a folder."""
    groups = [group for group in policy.groups if group.folders]
    if not groups:
        return None
    group = min(groups, key=lambda g: g.clearance.rank)  # the first of the lowest
    findings = _example_findings(tuple(p.pattern for p in policy.name_patterns))
    decision = decide(findings, group, policy) if findings is not None else None
    return TryTarget(group, group.folders[0], decision)


def copy_example(folder: Path, taken: Collection[Path] = ()) -> Path:
    """Write the example into `folder` under a name nothing has: never over an existing file
    (created exclusively), nor under a name in `taken` (a held file's way back)."""
    stem, suffix = os.path.splitext(EXAMPLE_NAME)
    number = 1
    while True:
        name = EXAMPLE_NAME if number == 1 else f"{stem} ({number}){suffix}"
        path = folder / name
        number += 1
        if path in taken:
            continue
        try:
            with open(path, "xb") as out:
                out.write(EXAMPLE)
        except FileExistsError:
            continue
        return path


def _plain(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    # Expanding across; keeping heightForWidth (a new QSizePolicy would drop it, and the
    # label would then claim its height at Qt's guessed width: gaps between the lines).
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Expanding)
    label.setSizePolicy(policy)
    return label


class _FittingScrollArea(QScrollArea):
    """Its content at a comfortable reading width, as tall as the wrapped text needs: the
    window opens fitting its text, and scrolls only where the screen is too small."""

    #: The reading width, in average characters of the font.
    CHARS = 84

    def __init__(self, content: QWidget) -> None:
        super().__init__()
        self.content = content
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def sizeHint(self) -> QSize:
        content = self.content
        width = self.fontMetrics().averageCharWidth() * self.CHARS
        width = max(width, content.minimumSizeHint().width())
        if content.hasHeightForWidth():
            height = content.heightForWidth(width)
        else:
            height = content.sizeHint().height()
        frame = 2 * self.frameWidth()
        return QSize(width + frame, height + frame)


class FirstRunWindow(QDialog):
    """Getting started: what SendGuard watches, where files go, and "Try it"."""

    #: "Try it" put the example here.
    example_copied = Signal(object)
    #: The user dismissed the window (Got it, Esc, or its close button).
    dismissed = Signal()

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._closing_quietly = False
        self._sized = False
        self.setModal(False)
        self.setWindowTitle(self.tr("Getting started — SendGuard"))
        self.setAccessibleName(self.windowTitle())
        # Wide enough for the paths, in the font's own units (any scale); the text scrolls
        # where the screen is too small for it (200 % on a small laptop).
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 48)
        policy = controller.policy
        #: The groups' headlines ("Family" — cleared for PUBLIC), in policy order.
        self.group_labels: list[QLabel] = []

        outer = QVBoxLayout(self)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        self.scroll_area = _FittingScrollArea(content)
        outer.addWidget(self.scroll_area, 1)
        title = _plain(self.tr("Welcome to SendGuard"))
        font = QFont(title.font())
        font.setPointSizeF(max(font.pointSizeF(), 9) * 1.5)
        font.setBold(True)
        title.setFont(font)
        self.title = title
        layout.addWidget(title)
        layout.addWidget(
            _plain(
                self.tr(
                    "When a labelled file is put into a group folder and the group is cleared"
                    " below its label, SendGuard holds the file and asks you before the group"
                    " gets it. Unlabelled files pass without a question."
                )
            )
        )

        # --- what is watched ---
        self._section(layout, self.tr("What is watched"))
        if policy.error is not None:
            layout.addWidget(
                _plain(
                    self.tr("The policy cannot be used, so every new file is held: {error}").format(
                        error=str(policy.error)
                    )
                )
            )
        if controller.demo:
            intro = self.tr(
                "No group folders were found, so SendGuard made two demo group folders in"
                " {folder} to try it on:"
            ).format(folder=visible(str(controller.demo_root)))
        elif policy.groups:
            intro = self.tr("The folders of these groups:")
        else:
            intro = self.tr(
                "No group folder is watched yet: SendGuard found no synced group folders, and"
                " the policy names none."
            )
        self.watched_intro = _plain(intro)
        layout.addWidget(self.watched_intro)
        if policy.groups:
            layout.addLayout(self._groups_grid(policy.groups[:MAX_GROUPS_SHOWN]))
        hidden = len(policy.groups) - MAX_GROUPS_SHOWN
        if hidden > 0:
            layout.addWidget(
                _plain(
                    self.tr("…and {count} more groups: Groups and policy… lists them all.").format(
                        count=hidden
                    )
                )
            )

        # --- where files go ---
        self._section(layout, self.tr("Where held files wait"))
        self.hold_text = _plain(
            self.tr(
                "A held file waits in {folder}, a private folder only you can open, until you"
                " decide: share it with the group, or not. It never moves on by itself, not"
                " after a while and not when you quit. Held files… lists what is waiting."
            ).format(folder=visible(str(controller.paths.hold)))
        )
        layout.addWidget(self.hold_text)
        self._section(layout, self.tr("Files you don't share"))
        self.not_shared_text = _plain(
            self.tr(
                "A file you decide not to share goes to {folder}, into a folder named after the"
                ' group, where you can find it again; Open the "Not shared" folder, in'
                " SendGuard's menu, takes you there."
            ).format(folder=visible(str(controller.not_shared_root)))
        )
        layout.addWidget(self.not_shared_text)

        # --- try it ---
        self._section(layout, self.tr("Try it"))
        self.target = try_target(policy)
        self.try_text = _plain("")
        layout.addWidget(self.try_text)
        self.try_status = _plain("")
        self.try_status.setVisible(False)
        layout.addWidget(self.try_status)

        buttons = QHBoxLayout()
        self.try_button = QPushButton(self.tr("Try it"))
        self.try_button.setAccessibleName(self.try_button.text())
        self.try_button.setAutoDefault(False)
        self.try_button.clicked.connect(self.try_it)
        buttons.addWidget(self.try_button)
        buttons.addStretch(1)
        self.close_button = QPushButton(self.tr("Got it"))
        self.close_button.setAccessibleName(self.close_button.text())
        self.close_button.setDefault(True)
        self.close_button.clicked.connect(self.accept)
        buttons.addWidget(self.close_button)
        layout.addStretch(1)
        outer.addLayout(buttons)

        self._describe_try()
        controller.state_changed.connect(self._describe_try)
        self.finished.connect(self._finished)

    # --- building ------------------------------------------------------------------------

    def _section(self, layout: QVBoxLayout, text: str) -> QLabel:
        """A bold heading, half a line below what comes before it."""
        layout.addSpacing(self.fontMetrics().height() // 2)
        label = _plain(text)
        font = QFont(label.font())
        font.setBold(True)
        label.setFont(font)
        label.setAccessibleName(text)
        layout.addWidget(label)
        return label

    def _groups_grid(self, groups: tuple[Group, ...]) -> QGridLayout:
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        metrics = self.fontMetrics()
        for index, group in enumerate(groups):
            swatch = QFrame()
            swatch.setMinimumSize(max(4, metrics.height() // 3), metrics.height())
            swatch.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
            colour = QColor(group.colour) if group.colour else None
            if colour is not None and colour.isValid():
                swatch.setStyleSheet(f"background: {colour.name()}; border-radius: 2px;")
                swatch.setAccessibleName(self.tr("Group colour"))
            grid.addWidget(swatch, index * 2, 0, 2, 1)
            line = self.tr('"{group}" — cleared for {level}').format(
                group=visible(group.name), level=str(group.clearance)
            )
            if group.external:
                line += " · " + self.tr("includes people outside your organisation")
            name = _plain(line)
            font = QFont(name.font())
            font.setBold(True)
            name.setFont(font)
            self.group_labels.append(name)
            grid.addWidget(name, index * 2, 1)
            folders = _plain("\n".join(visible(str(folder)) for folder in group.folders))
            grid.addWidget(folders, index * 2 + 1, 1)
        return grid

    def _describe_try(self) -> None:
        """What "Try it" does here, or why there is nothing to try (the button hidden)."""
        target = self.target
        controller = self.controller
        if target is None:
            self.try_text.setText(
                self.tr(
                    "Try it needs a group folder to copy an example into, and there is none"
                    " yet. Once SendGuard watches a group folder, copy a file marked TLP:AMBER"
                    " or CONFIDENTIAL into it to see what happens."
                )
            )
            self.try_button.setVisible(False)
            return
        decision = target.decision
        if not target.held:
            assert decision is not None
            self.try_text.setText(
                self.tr(
                    "Every group here is cleared for the example, labelled TLP:AMBER ({level}):"
                    ' in "{group}" too, it would pass without a question, so there is nothing'
                    " to try."
                ).format(level=str(decision.level), group=visible(target.group.name))
            )
            self.try_button.setVisible(False)
            return
        level = (
            f"TLP:AMBER ({decision.level})"
            if decision is not None and decision.level is not None
            else "TLP:AMBER"
        )
        text = self.tr(
            'Try it copies an example file labelled {level} into the folder of "{group}"'
            " ({folder}), cleared for {clearance}. SendGuard holds it and asks you: choose"
            ' "Don\'t share" and it goes to the "Not shared" folder.'
        ).format(
            level=level,
            group=visible(target.group.name),
            folder=visible(str(target.folder)),
            clearance=str(target.group.clearance),
        )
        if not controller.demo:
            text += " " + self.tr(
                "This is a real group folder: if you choose to share, its members get the example."
            )
        guarding = controller.engine is not None
        if not guarding:
            text += " " + self.tr(
                "SendGuard is not guarding right now (paused, starting, or it could not"
                " start), so the example would not be held: try it once it is watching."
            )
        self.try_text.setText(text)
        self.try_button.setVisible(True)
        self.try_button.setEnabled(guarding)
        self.try_button.setAccessibleName(
            self.tr('Try it: copy an example into "{group}"').format(
                group=visible(target.group.name)
            )
        )

    # --- actions -------------------------------------------------------------------------

    def try_it(self) -> Path | None:
        """Copy the example into the target group's folder; the engine does the rest."""
        target = self.target
        if target is None or self.controller.engine is None:
            return None
        taken = {entry.record.origin for entry in self.controller.held.values()}
        try:
            path = copy_example(target.folder, taken)
        except OSError as exc:
            self.try_status.setText(
                self.tr("The example could not be copied: {error}").format(
                    error=error_in_words(exc)
                )
            )
            self.try_status.setVisible(True)
            return None
        self.try_status.setText(
            self.tr(
                'Copied {file} into "{group}". SendGuard asks you about it in a moment.'
            ).format(file=visible(path.name), group=visible(target.group.name))
        )
        self.try_status.setVisible(True)
        self.example_copied.emit(path)
        return path

    def showEvent(self, event: QShowEvent) -> None:
        if not self._sized:
            # Qt opens a window at most 2/3 of the screen; this one may use more before it
            # scrolls, so that at 100 % it shows everything at once.
            self._sized = True
            screen = self.screen().availableGeometry()
            limit = QSize(screen.width() * 9 // 10, screen.height() * 17 // 20)
            self.resize(self.sizeHint().boundedTo(limit).expandedTo(self.minimumSizeHint()))
        super().showEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        # The user's close button dismisses it; the app closing its windows at quit does not.
        self._closing_quietly = not event.spontaneous()
        try:
            super().closeEvent(event)
        finally:
            self._closing_quietly = False

    def _finished(self, _result: int) -> None:
        if self._closing_quietly:
            return
        mark_first_run_done(self.controller.data_dir)
        self.dismissed.emit()
