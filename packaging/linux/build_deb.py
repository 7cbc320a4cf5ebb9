"""Build the .deb from the PyInstaller bundle, with no network: a staged tree and dpkg-deb.

    python packaging/linux/build_deb.py BUNDLE_DIR OUT_DIR

BUNDLE_DIR is PyInstaller's one-folder output (``build/bundle/sendguard``). Writes
``OUT_DIR/sendguard_<version>_<arch>.deb`` and prints its path. Icons are rendered from the
app's SVG with Qt (offscreen). Depends lists the Debian packages of the system libraries the
bundle links to but does not carry, found with ldd and dpkg -S (as dpkg-shlibdeps would).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
APP_ID = "org.sendguard.SendGuard"
APP_SVG = ROOT / "src" / "sendguard" / "app" / "icons" / "sendguard.svg"
SYMBOLIC_SVG = ROOT / "packaging" / "icons" / "sendguard-symbolic.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: Libraries every Debian system has (libc6 is listed with its version below).
ESSENTIAL = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
#: Besides what the bundle links to: the X11 platform plugin's runtime needs (loaded by Qt
#: at start-up, not linked), so the app starts on a desktop that lacks them.
ALWAYS = ("libxcb-cursor0", "libxkbcommon-x11-0", "libegl1", "libgl1", "libfontconfig1")


def version() -> str:
    text = (ROOT / "src" / "sendguard" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__ = "([^"]+)"', text)
    if match is None:
        raise SystemExit("no __version__ in src/sendguard/__init__.py")
    return match.group(1)


def architecture() -> str:
    return subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()


def render_pngs(stage: Path) -> None:
    """The app icon as PNGs in the hicolor sizes (for menus that do not draw SVG)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(APP_SVG))
    if not renderer.isValid():
        raise SystemExit(f"{APP_SVG}: not a valid SVG")
    for size in PNG_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        renderer.render(painter)
        painter.end()
        target = stage / f"usr/share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(target), "PNG"):
            raise SystemExit(f"could not write {target}")


def system_dependencies(bundle: Path) -> list[str]:
    """Debian packages of the libraries the bundle's ELF files load from the system."""
    inside = [str(bundle / "_internal"), str(bundle / "_internal" / "PySide6" / "Qt" / "lib")]
    env = {**os.environ, "LD_LIBRARY_PATH": ":".join(inside)}
    system_libraries: set[str] = set()
    for path in bundle.rglob("*"):
        if not path.is_file() or path.is_symlink() or not _is_elf(path):
            continue
        done = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env)
        for line in done.stdout.splitlines():
            match = re.match(r"\s*(\S+) => (/\S+)", line)
            if match and not match.group(2).startswith(str(bundle)):
                system_libraries.add(os.path.realpath(match.group(2)))
    packages: set[str] = set()
    for library in sorted(system_libraries):
        done = subprocess.run(["dpkg", "-S", library], capture_output=True, text=True)
        if done.returncode != 0:  # usr-merge: dpkg may know it under /lib
            alternative = library.removeprefix("/usr")
            done = subprocess.run(["dpkg", "-S", alternative], capture_output=True, text=True)
        if done.returncode == 0:
            packages.add(done.stdout.split(":")[0].strip())
    libc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", "libc6"], capture_output=True, text=True
    ).stdout.strip()
    libc_upstream = libc.split("-")[0] if libc else "2.36"
    depends = [f"libc6 (>= {libc_upstream})"]
    depends += sorted((packages | set(ALWAYS)) - ESSENTIAL)
    return depends


def _is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def install(source: Path, target: Path, mode: int = 0o644) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(mode)


def stage_tree(bundle: Path, stage: Path, release: str) -> None:
    shutil.copytree(bundle, stage / "opt" / "sendguard", symlinks=True)
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / "sendguard").symlink_to("/opt/sendguard/sendguard")
    install(HERE / f"{APP_ID}.desktop", stage / f"usr/share/applications/{APP_ID}.desktop")
    install(HERE / f"{APP_ID}-autostart.desktop", stage / f"etc/xdg/autostart/{APP_ID}.desktop")
    metainfo = (HERE / f"{APP_ID}.metainfo.xml").read_text(encoding="utf-8")
    metainfo = metainfo.replace("@VERSION@", release).replace("@DATE@", str(dt.date.today()))
    target = stage / f"usr/share/metainfo/{APP_ID}.metainfo.xml"
    target.parent.mkdir(parents=True)
    target.write_text(metainfo, encoding="utf-8")
    install(APP_SVG, stage / f"usr/share/icons/hicolor/scalable/apps/{APP_ID}.svg")
    install(SYMBOLIC_SVG, stage / f"usr/share/icons/hicolor/symbolic/apps/{APP_ID}-symbolic.svg")
    render_pngs(stage)
    install(HERE / "policy.toml", stage / "etc/sendguard/policy.toml")
    docs = stage / "usr/share/doc/sendguard"
    install(ROOT / "resources" / "policy.example.toml", docs / "policy.example.toml")
    install(ROOT / "docs" / "deploy.md", docs / "deploy.md")
    (docs / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: sendguard\n\nFiles: *\nCopyright: The SendGuard developers\n"
        "License: Apache-2.0\n See /usr/share/common-licenses/Apache-2.0.\n",
        encoding="utf-8",
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bundle, out = Path(argv[0]).resolve(), Path(argv[1]).resolve()
    if not (bundle / "sendguard").is_file():
        print(f"{bundle}: no bundle there; run `make bundle` first", file=sys.stderr)
        return 2
    release, arch = version(), architecture()
    stage = out / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    stage_tree(bundle, stage, release)
    for folder in [stage, *(p for p in stage.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    debian = stage / "DEBIAN"
    debian.mkdir()
    installed_kib = (
        sum(p.lstat().st_size for p in stage.rglob("*") if p.is_file() or p.is_symlink()) // 1024
    )
    control = {
        "Package": "sendguard",
        "Version": release,
        "Architecture": arch,
        "Maintainer": "The SendGuard developers <sendguard@localhost>",
        "Installed-Size": str(installed_kib),
        "Depends": ", ".join(system_dependencies(bundle)),
        "Section": "utils",
        "Priority": "optional",
        "Description": "holds labelled documents before they are shared into the wrong group\n"
        " SendGuard watches the folders that map to groups (synced team folders, chat\n"
        " apps' file folders) and asks, naming the group, before a labelled document\n"
        " is shared into a group cleared below its label.",
    }
    (debian / "control").write_text(
        "".join(f"{key}: {value}\n" for key, value in control.items()), encoding="utf-8"
    )
    (debian / "conffiles").write_text("/etc/sendguard/policy.toml\n", encoding="utf-8")
    for script in ("postinst", "postrm"):
        install(HERE / script, debian / script, 0o755)
    package = out / f"sendguard_{release}_{arch}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(stage), str(package)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(package)
    print(f"installed size: {installed_kib / 1024:.1f} MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
