"""The packaged app: its size on disk and its start-up to tray (or window), against the same
app run from the development venv.

    .venv/bin/python bench/installed.py                       # the bundle from `make bundle`
    .venv/bin/python bench/installed.py /opt/sendguard        # the installed package

Start-up is measured from launching ``sendguard app --smoke-test`` (offscreen, a fresh home
and data folder each run) to its ``ready in N ms`` line: the whole process start, the
bundle's unpacking and imports included. Goals: installed size under 120 MB, start-up under 2 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7


def size_mib(folder: Path) -> float:
    total = sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())
    return total / 2**20


def startup_ms(command: list[str]) -> list[float]:
    times: list[float] = []
    for _ in range(RUNS):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "HOME": home, "QT_QPA_PLATFORM": "offscreen"}
            started = time.perf_counter()
            process = subprocess.Popen(
                [*command, "app", "--smoke-test", "--data-dir", f"{home}/data"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=env,
            )
            assert process.stdout is not None
            line = process.stdout.readline()
            elapsed = (time.perf_counter() - started) * 1000
            process.wait(timeout=30)
            if not line.startswith("ready in"):
                raise SystemExit(f"{command[0]}: no 'ready' line (got {line!r})")
            times.append(elapsed)
    return times[1:]  # the first run warms the disk cache


def main() -> None:
    bundle = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "bundle" / "sendguard"
    executable = bundle / "sendguard"
    if not executable.exists():
        raise SystemExit(f"no bundle at {bundle}: run `make bundle` first")
    print(f"bundle: {bundle}")
    print(f"size on disk: {size_mib(bundle):.1f} MiB (goal: under 120 MB)")
    packaged = statistics.median(startup_ms([str(executable)]))
    reference = statistics.median(startup_ms([str(ROOT / ".venv" / "bin" / "sendguard")]))
    print(f"start-up to ready, packaged:  {packaged:.0f} ms median of {RUNS - 1} (goal: 2000)")
    print(f"start-up to ready, venv:      {reference:.0f} ms median of {RUNS - 1}")
    print(f"packaged / venv: {packaged / reference:.2f}")


if __name__ == "__main__":
    main()
