"""Desktop app figures: start-up to ready, idle memory and CPU while watching, and the time
from a file's hold to its dialog on screen.

Each figure is printed beside a reference measured in this same run: a bare PySide6 tray
app (QApplication + QSystemTrayIcon + a menu, nothing else) for start-up and memory.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/app.py [--runs 5] [--files 20]

Goals (issue 4): ready in under 1 s; idle under 100 MB; hold to dialog under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

BARE_TRAY = r"""
import sys, time
started = time.perf_counter()
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon
app = QApplication(sys.argv[:1])
pixmap = QPixmap(32, 32); pixmap.fill()
tray = QSystemTrayIcon(QIcon(pixmap)); menu = QMenu(); menu.addAction("Quit", app.quit)
tray.setContextMenu(menu); tray.show()
def ready():
    print(f"ready in {(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
    if "--smoke-test" in sys.argv:
        app.quit()
QTimer.singleShot(0, ready)
app.exec()
"""

POLICY = """
[[groups]]
name = "Editors' Desk"
folders = ["{root}/groups/editors"]
clearance = "INTERNAL"

[[groups]]
name = "Family"
folders = ["{root}/groups/family"]
clearance = "PUBLIC"
"""
LABELLED = b"TLP:RED\nThe plan for next quarter.\n"


def world(root: Path, files: int = 1000, folders: int = 100) -> Path:
    policy = root / "policy.toml"
    policy.write_text(POLICY.format(root=root), encoding="utf-8")
    for n in range(folders):
        folder = root / "groups" / ("editors" if n % 2 else "family") / f"project-{n}"
        folder.mkdir(parents=True, exist_ok=True)
        for m in range(files // folders):
            (folder / f"note-{m}.txt").write_text("ordinary text\n")
    return policy


def sendguard_command(policy: Path, data: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sendguard", "app", "--policy", str(policy),
            "--data-dir", str(data), *extra]  # fmt: skip


def time_to_ready(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    elapsed = time.perf_counter() - started
    process.wait(timeout=30)
    if not line.startswith("ready in"):
        raise SystemExit(f"did not start: {line!r}")
    return elapsed


def idle(command: list[str], env: dict[str, str], seconds: float) -> tuple[float, float]:
    """(RSS in MB after settling, CPU % over `seconds` of idling)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)
    try:
        time.sleep(3.0)  # start-up, the engine's first listing, the watches
        ticks = os.sysconf("SC_CLK_TCK")

        def cpu() -> float:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / ticks

        before, started = cpu(), time.monotonic()
        time.sleep(seconds)
        used = (cpu() - before) / (time.monotonic() - started) * 100
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024, used
        raise SystemExit("no VmRSS")
    finally:
        process.terminate()
        process.wait(timeout=30)


def hold_to_dialog(root: Path, files: int) -> tuple[list[float], list[float]]:
    """In this process: the real app on real folders; per file, from the end of the write
    and from the hold (the journal's time) to the dialog being shown."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from sendguard.app.controller import Controller
    from sendguard.app.shell import Shell

    app = QApplication.instance() or QApplication(sys.argv[:1])
    policy = root / "policy-latency.toml"
    policy.write_text(POLICY.format(root=root / "latency"), encoding="utf-8")
    controller = Controller(policy_path=policy, data_dir=root / "latency-data", home=root)
    shell = Shell(controller, tray_available=lambda: False)
    shown: list[float] = []
    shell.dialog_shown.connect(lambda dialog: shown.append(time.time()))
    controller.start()

    def spin(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > end:
                raise SystemExit("timed out")
            QCoreApplication.processEvents()
            time.sleep(0.001)

    spin(lambda: controller.ready)
    from_write: list[float] = []
    from_hold: list[float] = []
    folder = root / "latency" / "groups" / "family"
    for n in range(files):
        path = folder / f"plan-{n}.txt"
        path.write_bytes(LABELLED)
        written = time.time()
        spin(lambda: shell.dialog is not None)
        dialog = shell.dialog
        assert dialog is not None
        entry = controller.held[dialog.rows[0].item.hold_id]
        from_write.append(shown[-1] - written)
        from_hold.append(shown[-1] - entry.record.created)
        dialog.reject()
        spin(lambda: not controller.held and shell.dialog is None)
    shell.close_all()
    controller.stop()
    app.processEvents()
    return from_write, from_hold


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    args = parser.parse_args()
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        policy = world(root)
        bare = [sys.executable, "-c", BARE_TRAY]
        ours = [time_to_ready(sendguard_command(policy, root / f"d{n}", "--smoke-test"), env)
                for n in range(args.runs)]  # fmt: skip
        reference = [time_to_ready([*bare, "--smoke-test"], env) for _ in range(args.runs)]
        print(f"start-up to ready (median of {args.runs}, process start to 'ready' line):")
        print(f"  SendGuard app      {statistics.median(ours) * 1000:7.0f} ms")
        print(f"  bare PySide6 tray  {statistics.median(reference) * 1000:7.0f} ms")
        ratio = statistics.median(ours) / statistics.median(reference)
        print(f"  ratio              {ratio:7.2f}x")

        rss, cpu = idle(sendguard_command(policy, root / "idle"), env, args.idle_seconds)
        bare_rss, bare_cpu = idle(bare, env, args.idle_seconds)
        print("idle, watching 1,000 files in 100 folders (RSS after 3 s; CPU over "
              f"{args.idle_seconds:g} s):")  # fmt: skip
        print(f"  SendGuard app      {rss:7.1f} MB  {cpu:5.2f} % CPU")
        print(f"  bare PySide6 tray  {bare_rss:7.1f} MB  {bare_cpu:5.2f} % CPU")
        print(f"  difference         {rss - bare_rss:7.1f} MB")

        from_write, from_hold = hold_to_dialog(root, args.files)
        for name, values in (("write to dialog", from_write), ("hold to dialog", from_hold)):
            values = sorted(values)
            p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
            print(
                f"{name:16} p50 {statistics.median(values) * 1000:6.0f} ms"
                f"  p95 {p95 * 1000:6.0f} ms  max {values[-1] * 1000:6.0f} ms"
                f"  ({len(values)} files)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
