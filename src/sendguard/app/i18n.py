"""Translations: English (the source) and Simplified Chinese, following the system locale
unless the user chose a language."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

LANGUAGES = {"en": "English", "zh_CN": "简体中文"}


def settings(data_dir: Path) -> QSettings:
    return QSettings(str(data_dir / "app.ini"), QSettings.Format.IniFormat)


def chosen_language(data_dir: Path, override: str | None = None) -> str:
    """`override` (the command line) > the user's choice > the system locale."""
    if override:
        return override
    saved = saved_language(data_dir)
    if saved:
        return saved
    return "zh_CN" if QLocale.system().name().startswith("zh") else "en"


def saved_language(data_dir: Path) -> str:
    """The user's choice: a code from LANGUAGES, or "" for the system's language."""
    saved = settings(data_dir).value("language", "")
    return saved if isinstance(saved, str) and saved in LANGUAGES else ""


def save_language(data_dir: Path, language: str) -> None:
    store = settings(data_dir)
    store.setValue("language", language)
    store.sync()


def translations_folder() -> Path:
    return Path(str(resources.files("sendguard.app").joinpath("translations")))


def install(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Load our catalogue and Qt's own (standard buttons) for `language`."""
    installed: list[QTranslator] = []
    if language == "en":
        return installed
    ours = QTranslator(app)
    if ours.load(f"sendguard_{language}", str(translations_folder())):
        app.installTranslator(ours)
        installed.append(ours)
    qt = QTranslator(app)
    if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        installed.append(qt)
    return installed
