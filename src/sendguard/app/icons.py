"""Tray and window icons, drawn from the SVGs beside this file.

The tray's states differ in shape, not only colour (a filled shield with a tick, a hollow
shield with bars, a shield with a stop square and a badge, a warning triangle), so they are
told apart in monochrome panels and by people who do not see colour. Colours follow the
palette's scheme: dark strokes on light panels, light strokes on dark ones.
"""

from __future__ import annotations

import sys
from functools import cache
from importlib import resources

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from .controller import TrayState

SIZES = (16, 22, 24, 32, 48, 64)

_LIGHT = {"#FG#": "#1f2937", "#BG#": "#ffffff", "#AC#": "#d97706"}
_DARK = {"#FG#": "#e5e7eb", "#BG#": "#111827", "#AC#": "#f59e0b"}


@cache
def svg_source(name: str) -> str:
    return resources.files("sendguard.app").joinpath("icons", f"{name}.svg").read_text("utf-8")


def prefers_dark() -> bool:
    """Whether the desktop uses a dark scheme (Qt 6.5+ says so; else judge the palette)."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def render(name: str, dark: bool, size: int) -> QPixmap:
    source = svg_source(name)
    for placeholder, colour in (_DARK if dark else _LIGHT).items():
        source = source.replace(placeholder, colour)
    renderer = QSvgRenderer(QByteArray(source.encode("utf-8")))
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


def render_mask(name: str, size: int) -> QPixmap:
    """A template image (macOS menu bar): black where the icon is drawn, transparent
    elsewhere, including the tick and bars cut out of a filled shield. The system tints it."""
    image = render(name, False, size).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    for y in range(size):
        for x in range(size):
            colour = image.pixelColor(x, y)
            # Light pixels are the cut-outs (the background colour), dark ones the shape.
            alpha = colour.alpha() if colour.lightness() < 160 else 0
            image.setPixelColor(x, y, QColor(0, 0, 0, alpha))
    return QPixmap.fromImage(image)


def state_icon(state: TrayState, dark: bool | None = None, mask: bool | None = None) -> QIcon:
    """The tray icon for `state`: coloured for the panel's scheme, or (macOS, `mask`) a
    template image the menu bar tints itself."""
    mask = sys.platform == "darwin" if mask is None else mask
    icon = QIcon()
    if mask:
        for size in SIZES:
            icon.addPixmap(render_mask(state.value, size))
        icon.setIsMask(True)
        return icon
    dark = prefers_dark() if dark is None else dark
    for size in SIZES:
        icon.addPixmap(render(state.value, dark, size))
    return icon


def app_icon() -> QIcon:
    icon = QIcon()
    for size in SIZES:
        icon.addPixmap(render("sendguard", False, size))
    return icon
