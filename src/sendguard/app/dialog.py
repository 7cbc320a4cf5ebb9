"""The confirmation dialog: «Share with "Editors' Desk"?» — the heart of the product.

It is about the destination. The group's name is the window title and the headline, large,
in the group's colour, with its member count and whether outsiders are in it. "Don't share"
is the default button and what Esc and closing mean; sharing takes a deliberate act: the
share button names the group, arms only after a short delay, and where the policy asks, the
group's name must be typed (not pasted) and a reason given. Nothing here times out.

A key counts only if it is pressed and released while the dialog is on screen, after its
first moment: an Enter or a space meant for the chat window, typed or held down as the
dialog appears, decides nothing (`KeyGate`). Mouse clicks are not held back.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QElapsedTimer,
    QEvent,
    QObject,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from sendguard.display import visible
from sendguard.engine.decider import Answer, Batch, PromptItem, typed_name_matches
from sendguard.engine.hints import Hint
from sendguard.labels import Findings
from sendguard.labels.model import Finding, Scheme
from sendguard.policy import Action

from .reasons import forwarded_text, forwarding_rule

translate = QCoreApplication.translate

#: A reflex click (the user was clicking where the dialog appeared) does nothing.
ARM_DELAY_MS = 1500
#: Keys pressed this soon after the dialog appears (or gets the keyboard back) are ignored:
#: nobody has read it yet, so the key was meant for the window they were typing in — an
#: Enter that sends a chat message, a space between words — and the dialog took the focus
#: under their fingers. About three times the time it takes to react to something that
#: appears (~250 ms), so a keystroke already on its way is caught; a key held down is
#: refused however long it is held (`KeyGate`), so this need not be longer. Short enough
#: that a deliberate Esc a moment later is not lost. Never longer than the arm delay: the
#: keys work once the share button does (`ConfirmDialog`).
KEY_DELAY_MS = 800
#: Where the label was found, in words a person understands.
_PLACES = (
    # Most specific first: an e-mail's "header msip_labels" is a label, not a page header.
    ("LabelInfo", QT_TRANSLATE_NOOP("ConfirmDialog", "the sensitivity label (Microsoft Purview)")),
    ("MSIP_Label", QT_TRANSLATE_NOOP("ConfirmDialog", "the sensitivity label (Microsoft Purview)")),
    ("custom.xml", QT_TRANSLATE_NOOP("ConfirmDialog", "the document's properties")),
    ("PDF Info", QT_TRANSLATE_NOOP("ConfirmDialog", "the PDF's properties")),
    ("XMP", QT_TRANSLATE_NOOP("ConfirmDialog", "the file's metadata (XMP)")),
    ("subject", QT_TRANSLATE_NOOP("ConfirmDialog", "the e-mail's subject")),
    ("top lines", QT_TRANSLATE_NOOP("ConfirmDialog", "the top of the page")),
    ("bottom lines", QT_TRANSLATE_NOOP("ConfirmDialog", "the bottom of the page")),
    ("first lines", QT_TRANSLATE_NOOP("ConfirmDialog", "the first lines")),
    ("last lines", QT_TRANSLATE_NOOP("ConfirmDialog", "the last lines")),
    ("header", QT_TRANSLATE_NOOP("ConfirmDialog", "the page header")),
    ("footer", QT_TRANSLATE_NOOP("ConfirmDialog", "the page footer")),
    ("scanned", QT_TRANSLATE_NOOP("ConfirmDialog", "the scanned page")),
)


def plain(text: str) -> str:
    """What a label may show of a name: control, bidi and zero-width characters made
    visible. Labels showing it are also set to plain text, so `<b>` is never markup."""
    return visible(text)


def _where_in_words(finding: Finding) -> str:
    """The first place a label was found, in words: by its scheme for names and tags, else
    by the innermost part of the place (``inner.zip › a.docx › word/footer1.xml``)."""
    if finding.scheme is Scheme.FILE_NAME:
        return translate("ConfirmDialog", "the file name")
    if finding.scheme is Scheme.FILE_TAG:
        return translate("ConfirmDialog", "the file's tags")
    if not finding.where:
        return translate("ConfirmDialog", "the file")
    place = finding.where[0].rsplit(" › ", 1)[-1].casefold()
    for needle, words in _PLACES:
        if needle.casefold() in place:
            return translate("ConfirmDialog", str(words))
    return plain(finding.where[0])


def label_line(item: PromptItem) -> str:
    """«SECRET — marking "SECRET" in the page header». Forwarded content leads with where
    it came from: «Forwarded from "Work" (…) — no label of its own»."""
    decision = item.decision
    if decision.hold_reason:
        return translate("ConfirmDialog", "The policy cannot be used: {error}").format(
            error=plain(decision.hold_reason)
        )
    forwarded = forwarded_text(decision, item.came_from)
    if forwarded is None:
        return _label_words(item)
    label = (
        _label_words(item)
        if decision.level is not None
        else translate("ConfirmDialog", "no label of its own")
    )
    return translate("ConfirmDialog", "{forwarded} — {label}").format(
        forwarded=forwarded, label=label
    )


def _label_words(item: PromptItem) -> str:
    decision = item.decision
    level = decision.level.name if decision.level else translate("ConfirmDialog", "unknown level")
    # The strongest label; among equals, one in the content rather than in the file's name
    # or tags (the name is what the user sees anyway).
    trigger = max(
        decision.labels,
        key=lambda label: (
            label.level,
            label.finding.scheme not in (Scheme.FILE_NAME, Scheme.FILE_TAG),
        ),
        default=None,
    )
    if trigger is None:
        if item.findings.unscannable_reason:
            return translate("ConfirmDialog", "{level} — could not be read: {reason}").format(
                level=level, reason=plain(item.findings.unscannable_reason)
            )
        return level
    return translate("ConfirmDialog", "{level} — {label} in {where}").format(
        level=level,
        label=_finding_in_words(trigger.finding),
        where=_where_in_words(trigger.finding),
    )


def _finding_in_words(finding: Finding) -> str:
    """The label itself («marking TLP:RED»), as `Finding.describe` says it for the command
    line and the audit, in the user's language. Names, values and GUIDs are data."""
    value = plain(finding.value or finding.guid or "")
    if finding.scheme is Scheme.MARKING:
        shown = plain(finding.marking or finding.value or "")
        if finding.value and finding.value.casefold() != shown.casefold():
            return translate("ConfirmDialog", "marking {marking} ({value})").format(
                marking=shown, value=value
            )
        return translate("ConfirmDialog", "marking {marking}").format(marking=shown)
    if finding.scheme is Scheme.MIP:
        name = plain(finding.name) if finding.name else translate("ConfirmDialog", "label")
        return translate("ConfirmDialog", "MIP {label} ({guid})").format(
            label=name, guid=plain(finding.guid or "")
        )
    if finding.scheme is Scheme.FILE_TAG:
        return translate("ConfirmDialog", "file-tag {value}").format(value=value).strip()
    if finding.scheme is Scheme.FILE_NAME:
        return translate("ConfirmDialog", "file-name {value}").format(value=value).strip()
    return plain(finding.describe())  # Titus, Boldon James, a property: names and values


def file_type(findings: Findings) -> str:
    return findings.format or translate("ConfirmDialog", "unknown type")


class TypedOnlyLineEdit(QLineEdit):
    """A line edit that takes typing (and input methods) but no paste or drop: typing the
    group's name is the point, copying it from the headline is not."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Paste) or (
            event.key() == Qt.Key.Key_Insert
            and event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            event.ignore()
            return
        super().keyPressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:  # X11's selection paste
            event.ignore()
            return
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        event.ignore()


class _FileRow(QFrame):
    """One file: its name as plain text, its true type, its label and where it was found,
    and (in a batch) its own choice."""

    toggled = Signal()

    def __init__(self, item: PromptItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        top = QHBoxLayout()
        self.choice = QCheckBox(self.tr("Share this file"))
        self.blocked = item.decision.action is Action.BLOCK or item.decision.hold_reason is not None
        name = QLabel(plain(item.name))
        name.setTextFormat(Qt.TextFormat.PlainText)
        name.setWordWrap(True)
        name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bold = QFont(name.font())
        bold.setBold(True)
        name.setFont(bold)
        name.setAccessibleName(self.tr("File name"))
        self.name_label = name
        top.addWidget(name, 1)
        self.choice.setAccessibleName(self.tr("Share {file}").format(file=plain(item.name)))
        self.choice.toggled.connect(lambda _checked: self.toggled.emit())
        self.choice.setVisible(False)
        self.single = True
        if not self.blocked:
            top.addWidget(self.choice)
        layout.addLayout(top)
        kind = QLabel(self.tr("Type: {type}").format(type=plain(file_type(item.findings))))
        kind.setTextFormat(Qt.TextFormat.PlainText)
        kind.setAccessibleName(self.tr("File type"))
        layout.addWidget(kind)
        label = QLabel(label_line(item))
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setWordWrap(True)
        label.setAccessibleName(self.tr("Label"))
        layout.addWidget(label)
        self.label_text = label
        clearance = QLabel(
            self.tr("This group is cleared for {level}.").format(level=item.decision.clearance)
        )
        clearance.setTextFormat(Qt.TextFormat.PlainText)
        clearance.setWordWrap(True)
        layout.addWidget(clearance)
        for extra in _extra_lines(item):
            note = QLabel(extra)
            note.setTextFormat(Qt.TextFormat.PlainText)
            note.setWordWrap(True)
            note.setStyleSheet("font-weight: bold;")
            layout.addWidget(note)
        if self.blocked:
            why = (
                self.tr("Held until the policy is fixed; it cannot be shared from here.")
                if item.decision.hold_reason
                else self.tr("The policy does not allow this file to be shared with this group.")
            )
            stop = QLabel(why)
            stop.setWordWrap(True)
            stop.setTextFormat(Qt.TextFormat.PlainText)
            layout.addWidget(stop)

    def set_single(self, single: bool) -> None:
        """Alone in its dialog, the share button decides; among several, its own choice."""
        self.single = single
        self.choice.setVisible(not single and not self.blocked)

    @property
    def chosen(self) -> bool:
        return not self.blocked and (self.single or self.choice.isChecked())


def _extra_lines(item: PromptItem) -> list[str]:
    """Forwarding and wrong-group hints, when the engine gives them."""
    lines = []
    rule = forwarding_rule(item.decision)  # where it came from is in the label line
    if rule is not None:
        lines.append(rule)
    if item.hint is not None:
        lines.append(plain(hint_text(item.hint)))
    return lines


def hint_text(hint: Hint) -> str:
    """The wrong-group hint, worded in the user's language."""
    if hint.usual:
        groups = [
            translate("ConfirmDialog", '"{group}"').format(group=visible(group))
            for group in hint.usual
        ]
        names = (
            translate("ConfirmDialog", "{first} and {second}").format(
                first=groups[0], second=groups[1]
            )
            if len(groups) > 1
            else groups[0]
        )
        return translate(
            "ConfirmDialog", 'You usually share {level} documents with {groups}. This is "{group}".'
        ).format(level=hint.level, groups=names, group=visible(hint.group))
    seconds = hint.seconds_ago
    if seconds < 3600:
        ago = translate("ConfirmDialog", "less than an hour ago")
    elif seconds < 2 * 3600:
        ago = translate("ConfirmDialog", "an hour ago")
    elif seconds < 48 * 3600:
        ago = translate("ConfirmDialog", "{count} hours ago").format(count=int(seconds // 3600))
    else:
        ago = translate("ConfirmDialog", "{count} days ago").format(count=int(seconds // 86400))
    return translate(
        "ConfirmDialog", 'A file named "{name}" went to "{other}" {ago}. This is "{group}".'
    ).format(
        name=visible(hint.name or ""),
        other=visible(hint.went_to or ""),
        ago=ago,
        group=visible(hint.group),
    )


def _physical_key(event: QKeyEvent) -> tuple[bool, int]:
    """Which key on the keyboard: its scan code where the platform gives one (a release
    then matches its press whatever the modifiers did meanwhile), else Qt's key code."""
    scan = event.nativeScanCode()
    return (True, scan) if scan else (False, event.key())


class KeyGate(QObject):
    """Lets a key act only if it was pressed after the first moment of the dialog being on
    screen, and pressed while the dialog was: a key already down when the dialog appeared
    (its auto-repeats, its release) and a key pressed in the first moment do nothing.

    Installed as an event filter on the dialog and every widget in it, so it sees a key
    before the focused widget does (whether a button, Space and Enter on it, a check box, the
    name field, or the dialog's own Esc and Enter), and again at each parent the key goes on
    to. A shortcut's key is held back the same way. Mouse events pass untouched.
    """

    _KEY_EVENTS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride)
    #: A release and a press of a key this close together are one auto-repeat, marked or
    #: not: X11 sends each repeat as a release and a press with the same time, and Qt marks
    #: them as a repeat only when it happens to read both at once. No finger lifts a key and
    #: presses it again within a few milliseconds.
    _REPEAT_PAIR_MS = 5

    def __init__(self, delay_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.delay_ms = delay_ms
        self._since = QElapsedTimer()  # not started: not shown yet, no key counts
        #: Keys whose latest press was let through: only these may repeat or be released.
        self._live: set[tuple[bool, int]] = set()
        #: Keys whose latest press or release was held back: None while down, else the
        #: time of that release (0 where the platform gives no times).
        self._held: dict[tuple[bool, int], int | None] = {}

    def restart(self, *, forget_keys: bool = True) -> None:
        """The dialog appeared or got the keyboard back: a first moment again. With
        `forget_keys`, a key pressed before now (elsewhere) may not repeat or be released
        here."""
        self._since.start()
        if forget_keys:
            self._live.clear()
            self._held.clear()

    @property
    def ready(self) -> bool:
        """The first moment is over: a fresh key press counts."""
        return self.remaining_ms() == 0

    def remaining_ms(self) -> int:
        """How long until a fresh key press counts (all of it before the dialog is shown)."""
        if not self._since.isValid():
            return self.delay_ms
        return max(0, self.delay_ms - self._since.elapsed())

    def guard(self, widget: QWidget) -> None:
        """Watch `widget` and everything in it (installing twice is harmless)."""
        for each in (widget, *widget.findChildren(QWidget)):
            each.installEventFilter(self)

    def _repeats_a_held_key(self, key: tuple[bool, int], time: int) -> bool:
        """A press not marked as a repeat that is one all the same: of a key held back and
        not released since, or arriving with the release of one (see _REPEAT_PAIR_MS)."""
        if key not in self._held:
            return False
        released = self._held[key]
        return released is None or (released > 0 and abs(time - released) <= self._REPEAT_PAIR_MS)

    def _lets_through(self, key: tuple[bool, int], event: QKeyEvent) -> bool:
        if event.type() == QEvent.Type.KeyRelease or event.isAutoRepeat():
            # A release, or a repeat of a key held down: only for a press let through.
            return key in self._live
        return self.ready and not self._repeats_a_held_key(key, event.timestamp())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in self._KEY_EVENTS or not isinstance(event, QKeyEvent):
            return False
        key = _physical_key(event)
        allowed = self._lets_through(key, event)
        if event.type() == QEvent.Type.KeyPress:
            if allowed:
                self._live.add(key)
                self._held.pop(key, None)
            else:
                self._live.discard(key)
                self._held[key] = None
        elif event.type() == QEvent.Type.KeyRelease and not allowed:
            self._held[key] = event.timestamp()
        if allowed:
            return False
        # Swallowed, and accepted so it goes to no parent. For a ShortcutOverride, accepting
        # means "no shortcut": the key press that follows comes here and is swallowed too.
        event.accept()
        return True


class ConfirmDialog(QDialog):
    """Asks about one batch (the files that arrived together for one group)."""

    #: The answers, once: emitted when the dialog closes, whatever closed it.
    answered = Signal(list)

    def __init__(
        self,
        batch: Batch,
        parent: QWidget | None = None,
        arm_delay_ms: int = ARM_DELAY_MS,
        key_delay_ms: int | None = None,
    ) -> None:
        super().__init__(parent)
        # Keys work no later than the share button: once it is armed, Space on it shares.
        self._keys = KeyGate(
            min(KEY_DELAY_MS, arm_delay_ms) if key_delay_ms is None else key_delay_ms, self
        )
        self.batch = batch
        self.group = batch.group
        self._answered = False
        self._armed = False
        group_name = plain(self.group.name)
        headline_text = self.tr('Share with "{group}"?').format(group=group_name)
        self.setWindowTitle(headline_text)
        self.setAccessibleName(headline_text)
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.setModal(False)
        self.setMinimumWidth(520)

        outer = QVBoxLayout(self)
        outer.setSpacing(10)

        colour = QColor(self.group.colour) if self.group.colour else None
        header = QHBoxLayout()
        swatch = QLabel()
        swatch.setFixedSize(14, 48)
        if colour is not None and colour.isValid():
            swatch.setStyleSheet(f"background: {colour.name()}; border-radius: 3px;")
        swatch.setAccessibleName(self.tr("Group colour"))
        header.addWidget(swatch)
        headline = QLabel(headline_text)
        headline.setTextFormat(Qt.TextFormat.PlainText)
        headline.setWordWrap(True)
        font = QFont(headline.font())
        font.setPointSizeF(max(font.pointSizeF(), 9) * 1.8)
        font.setBold(True)
        headline.setFont(font)
        if colour is not None and colour.isValid():
            headline.setStyleSheet(f"color: {colour.name()};")
        headline.setAccessibleName(headline_text)
        headline.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.headline = headline
        header.addWidget(headline, 1)
        outer.addLayout(header)

        facts = []
        if self.group.members is not None:
            facts.append(self.tr("Members: {count}").format(count=self.group.members))
        if self.group.external:
            facts.append(self.tr("includes people outside your organisation"))
        self.facts = QLabel(" · ".join(facts))
        self.facts.setTextFormat(Qt.TextFormat.PlainText)
        self.facts.setWordWrap(True)
        if self.group.external:
            self.facts.setStyleSheet("font-weight: bold;")
        self.facts.setVisible(bool(facts))
        outer.addWidget(self.facts)

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.setTextFormat(Qt.TextFormat.PlainText)
        outer.addWidget(self.intro)

        rows_widget = QWidget()
        self.rows_layout = QVBoxLayout(rows_widget)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.addStretch(1)
        self.rows: list[_FileRow] = []
        self.rows_area = QScrollArea()
        self.rows_area.setWidgetResizable(True)
        self.rows_area.setFrameShape(QFrame.Shape.NoFrame)
        self.rows_area.setWidget(rows_widget)
        outer.addWidget(self.rows_area)
        for item in batch.items:
            self._add_row(item)

        self.needs_name = self.needs_reason = False
        self.name_edit = TypedOnlyLineEdit()
        self.name_edit.setAccessibleName(self.tr("Type the group's name to share"))
        self.name_prompt = QLabel(
            self.tr('To share, type the group\'s name: "{group}"').format(group=group_name)
        )
        self.name_prompt.setTextFormat(Qt.TextFormat.PlainText)
        self.name_prompt.setWordWrap(True)
        self.name_prompt.setBuddy(self.name_edit)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setAccessibleName(self.tr("Why is this the right group?"))
        self.reason_edit.setPlaceholderText(self.tr("Why is this the right group?"))
        self.reason_edit.setTabChangesFocus(True)
        self.reason_edit.setFixedHeight(70)
        self.reason_prompt = QLabel(self.tr("Reason (kept in the audit record):"))
        self.reason_prompt.setBuddy(self.reason_edit)
        outer.addWidget(self.name_prompt)
        outer.addWidget(self.name_edit)
        outer.addWidget(self.reason_prompt)
        outer.addWidget(self.reason_edit)
        self.name_edit.textChanged.connect(self._update)
        self.reason_edit.textChanged.connect(self._update)

        self.waiting = QLabel(self.tr("Take a moment: sharing becomes possible shortly."))
        self.waiting.setTextFormat(Qt.TextFormat.PlainText)
        self.waiting.setWordWrap(True)
        outer.addWidget(self.waiting)

        buttons = QHBoxLayout()
        self.dont_share = QPushButton(self.tr("Don't share"))
        self.dont_share.setDefault(True)
        self.dont_share.setAutoDefault(True)
        self.dont_share.setAccessibleName(self.tr("Don't share"))
        self.dont_share.clicked.connect(self.reject)
        self.share = QPushButton()
        self.share.setAutoDefault(False)
        self.share.setDefault(False)
        self.share.setEnabled(False)
        self.share.clicked.connect(self._share_clicked)
        buttons.addWidget(self.dont_share)
        buttons.addStretch(1)
        buttons.addWidget(self.share)
        outer.addLayout(buttons)

        # Keyboard order: the safe choice first, then the per-file choices and the fields,
        # then sharing. Focus is visible (the style draws it; this makes it unmistakable).
        self.setStyleSheet(
            "QPushButton:focus, QCheckBox:focus, QLineEdit:focus, QPlainTextEdit:focus"
            " { outline: 2px solid palette(highlight); border: 2px solid palette(highlight); }"
        )
        self._arm_timer = QTimer(self)
        self._arm_timer.setSingleShot(True)
        self._arm_timer.timeout.connect(self._arm)
        self._arm_delay = arm_delay_ms
        self.finished.connect(self._on_finished)
        self._relayout()
        self.adjustSize()
        self.dont_share.setFocus()
        self._keys.guard(self)

    # --- rows ----------------------------------------------------------------------------

    def _add_row(self, item: PromptItem) -> None:
        row = _FileRow(item)
        row.toggled.connect(self._update)
        self.rows_layout.insertWidget(len(self.rows), row)
        self.rows.append(row)

    def add_items(self, items: Sequence[PromptItem]) -> None:
        """More files for the same group arrived while the dialog is open: they join it,
        and sharing disarms again, so a click meant for the old list cannot share them."""
        known = {row.item.hold_id for row in self.rows}
        fresh = [item for item in items if item.hold_id not in known]
        if not fresh or self._answered:
            return
        for item in fresh:
            self._add_row(item)
        self._keys.guard(self)  # the new rows' check boxes
        self._armed = False
        self.adjustSize()
        self.waiting.setVisible(True)
        if self.isVisible():
            self._arm_timer.start(self._arm_delay)
            # The list changed under the user's fingers: a first moment again for keys. A key
            # already held (and let through) may still be released.
            self._keys.restart(forget_keys=False)
        self._relayout()

    def _relayout(self) -> None:
        group_name = plain(self.group.name)
        count = len(self.rows)
        for row in self.rows:
            row.set_single(count == 1)
        self.intro.setText(
            self.tr("This file has a label above what this group is cleared for.")
            if count == 1
            else self.tr(
                "These {count} files have labels above what this group is cleared for."
                " Choose for each file."
            ).format(count=count)
        )
        share_text = (
            self.tr('Share with "{group}"').format(group=group_name)
            if count == 1
            else self.tr('Share chosen files with "{group}"').format(group=group_name)
        )
        self.share.setText(share_text)
        self.share.setAccessibleName(share_text)
        strictest = self._strictest()
        self.needs_name = strictest in (Action.TYPE_GROUP_NAME, Action.JUSTIFY)
        self.needs_reason = strictest is Action.JUSTIFY
        self.name_prompt.setVisible(self.needs_name)
        self.name_edit.setVisible(self.needs_name)
        self.reason_prompt.setVisible(self.needs_reason)
        self.reason_edit.setVisible(self.needs_reason)
        all_blocked = all(row.blocked for row in self.rows)
        self.share.setVisible(not all_blocked)
        self.waiting.setVisible(not all_blocked and not self._armed)
        # Tall enough for three files without scrolling; more scroll.
        shown = min(count, 3)
        height = sum(row.sizeHint().height() for row in self.rows[:shown]) + 6 * shown
        self.rows_area.setMinimumHeight(height)
        self.rows_area.setMaximumHeight(height if count <= 3 else 16777215)
        # Keyboard order: the safe choice first, then the per-file choices and the fields,
        # then sharing. Focus is visible (the style draws it; this makes it unmistakable).
        chain: list[QWidget] = [self.dont_share]
        chain += [row.choice for row in self.rows if row.choice.isVisibleTo(self)]
        if self.needs_name:
            chain.append(self.name_edit)
        if self.needs_reason:
            chain.append(self.reason_edit)
        chain.append(self.share)
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)
        self._update()

    # --- arming --------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._keys.restart()
        if not self._armed and not self._arm_timer.isActive():
            self._arm_timer.start(self._arm_delay)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # Getting the keyboard back (raised from the tray, or clicked into from the chat
        # window) is appearing again, as far as keys go.
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self._keys.restart()

    def _arm(self) -> None:
        # Not before the keys work (their first moment starts again when the dialog gets
        # the keyboard, a little after it is shown): an armed share button takes Space.
        if not self._keys.ready:
            self._arm_timer.start(self._keys.remaining_ms())
            return
        self._armed = True
        self.waiting.setVisible(False)
        self._update()

    @property
    def armed(self) -> bool:
        return self._armed

    @property
    def keys_ready(self) -> bool:
        """Past the first moment: a key pressed now (and released) counts."""
        return self._keys.ready

    @property
    def answered_already(self) -> bool:
        return self._answered

    # --- state ---------------------------------------------------------------------------

    def _strictest(self) -> Action:
        actions = [
            row.item.decision.action
            for row in self.rows
            if not row.blocked and row.item.decision.action is not None
        ]
        return max(actions, default=Action.CONFIRM)

    def name_ok(self) -> bool:
        return not self.needs_name or typed_name_matches(self.name_edit.text(), self.group.name)

    def reason_ok(self) -> bool:
        return not self.needs_reason or bool(self.reason_edit.toPlainText().strip())

    def _update(self) -> None:
        chosen = any(row.chosen for row in self.rows)
        self.share.setEnabled(self._armed and chosen and self.name_ok() and self.reason_ok())

    # --- answers -------------------------------------------------------------------------

    def _share_clicked(self) -> None:
        if not self.share.isEnabled():
            return
        self._finish(share_chosen=True)
        self.accept()

    def answers(self, share_chosen: bool) -> list[Answer]:
        typed = self.name_edit.text() if self.needs_name else self.group.name
        reason = self.reason_edit.toPlainText().strip() or None
        result = []
        for row in self.rows:
            share = share_chosen and row.chosen
            result.append(
                Answer(
                    row.item.hold_id,
                    share=share,
                    typed_name=typed if share else None,
                    justification=reason if share else None,
                )
            )
        return result

    def _finish(self, share_chosen: bool) -> None:
        if self._answered:
            return
        self._answered = True
        self.answered.emit(self.answers(share_chosen))

    def dismiss_unanswered(self) -> None:
        """The app quits: close without an answer, so the files stay held and are asked
        about again at the next start (quitting is not "don't share")."""
        self._answered = True
        self.reject()

    def _on_finished(self, result: int) -> None:
        self._finish(share_chosen=False)  # Esc, the close button, "Don't share"

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter never shares by habit: it presses the focused button, and only if that
        # is "Don't share" or the user tabbed to an armed share button on purpose.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            focused = self.focusWidget()
            if isinstance(focused, QPushButton):
                focused.click()
            return
        super().keyPressEvent(event)


def find_truncated(widget: QWidget) -> list[str]:
    """Texts that do not fit their label or button (for the translation tests)."""
    problems = []
    for label in widget.findChildren(QLabel):
        if not label.isVisible() or not label.text() or label.wordWrap():
            continue
        needed = label.fontMetrics().horizontalAdvance(label.text())
        if needed > label.contentsRect().width():
            problems.append(f"label {label.text()!r}: {needed} > {label.contentsRect().width()}")
    for button in widget.findChildren(QPushButton) + widget.findChildren(QCheckBox):
        if not button.isVisible():
            continue
        if button.width() < button.sizeHint().width():
            problems.append(
                f"button {button.text()!r}: {button.width()} < {button.sizeHint().width()}"
            )
    return problems
