"""Icon files for the installers, drawn from the app's SVGs: packaging/icons/sendguard.ico
(Windows: the executables, the Start-menu shortcut, Add/Remove Programs), sendguard.icns
(macOS: SendGuard.app). The Linux package renders its hicolor PNGs itself (build_deb.py).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/make_icons.py

The tray's own icons are drawn at run time (icons.py), in colour or as a macOS mask.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice
from PySide6.QtGui import QGuiApplication

from sendguard.app.icons import render

OUT = Path(__file__).resolve().parent.parent / "packaging" / "icons"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def png(size: int) -> Image.Image:
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    render("sendguard", False, size).save(buffer, "PNG")
    return Image.open(io.BytesIO(bytes(buffer.data().data()))).convert("RGBA")


def main() -> int:
    QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    largest = png(256)
    largest.save(OUT / "sendguard.ico", sizes=[(size, size) for size in ICO_SIZES])
    png(1024).save(OUT / "sendguard.icns", sizes=[(size, size) for size in ICNS_SIZES])
    for path in (OUT / "sendguard.ico", OUT / "sendguard.icns"):
        print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
