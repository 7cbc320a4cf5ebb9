"""``sendguard scan``: the label engine on files and folders, like a virus scanner's CLI.

Files are read as the guard reads a held file (`sendguard.labels.read_labels`): photos and
scans of pages by OCR too. OCR is required here: where it cannot run, such a file is
``unscannable`` with the reason, never ``clean``; ``--no-ocr`` skips it and says so.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TextIO

from sendguard.display import visible
from sendguard.labels import Findings, Limits, Verdict, read_labels

EXIT_CLEAN = 0
EXIT_FOUND = 1
EXIT_USAGE = 2

_PROGRESS_INTERVAL = 0.1
#: Longer cells overflow rather than widen every row of the table.
_MAX_COLUMN = 72
#: What --no-ocr leaves unread: a clean verdict would be a guess.
NOT_READ_BY_OCR = "not read by OCR (--no-ocr): markings only OCR can read were not checked"


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "scan",
        help="report the sensitivity labels in files",
        description=(
            "Report the sensitivity labels in files: Microsoft Purview (MIP) labels, Titus and"
            " Boldon James properties, classification properties, and visible markings such as"
            " OFFICIAL, TLP:RED or 机密★1年, with where each was found. Files are read as"
            " the guard reads them before they are shared: photos and scans of pages by OCR"
            " too (the OCR time is shown). Where OCR cannot run (the ocr extra is not"
            " installed), such a file is unscannable, never clean."
        ),
        epilog=(
            "exit status: 0 when no file is labelled, 1 when any file is labelled or"
            " unscannable (a picture not read by OCR included), 2 for a usage error (bad path"
            " or option)"
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files (or folders with -r)")
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per file, with every finding"
    )
    parser.add_argument(
        "-r", "--recursive", action="store_true", help="scan the files inside folders"
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="scan with N processes (0: one per CPU); results keep the order of the files",
    )
    parser.add_argument(
        "--no-ocr",
        action="store_true",
        help=(
            "do not read photos and scans by OCR (faster); they are reported unscannable"
            " (not read by OCR), not clean"
        ),
    )
    parser.set_defaults(handler=run)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of processes, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("the number of processes cannot be negative")
    return value or os.cpu_count() or 1


def _usage_error(message: str) -> int:
    print(f"sendguard scan: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _expand(paths: list[str], recursive: bool) -> list[Path] | str:
    """The files to scan, or the usage error that stops the scan before it starts."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            if not recursive:
                return f"{visible(raw)} is a folder; add --recursive to scan what is inside"
            files.extend(_walk(path))
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            return f"no such file or folder: {visible(raw)}"
    return files


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            yield Path(root, name)


def _limits(ocr: bool) -> Limits:
    """As the guard reads a held file, OCR required (a picture is never clean unread)."""
    return Limits(ocr=ocr, ocr_required=True)


def _scan_one(path: Path, limits: Limits) -> Findings:
    try:
        findings = read_labels(path, limits)
    except OSError as exc:  # vanished or replaced by a folder since it was listed
        findings = Findings(path=str(path), format="missing")
        findings.mark_unscannable(f"cannot be read: {exc.strerror or exc}")
        return findings
    if findings.ocr_pending:  # --no-ocr: what only OCR can read was not read
        if findings.verdict is Verdict.CLEAN:
            findings.mark_unscannable(NOT_READ_BY_OCR)
        else:
            findings.notes.append(NOT_READ_BY_OCR)
    return findings


def _scan_all(paths: list[Path], jobs: int, limits: Limits) -> Iterator[Findings]:
    """Findings in the order of `paths`, from `jobs` processes when there is work for them."""
    scan: Callable[[Path], Findings] = partial(_scan_one, limits=limits)
    if jobs <= 1 or len(paths) < 2:
        yield from map(scan, paths)
        return
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        # Small chunks keep the progress line moving and the order of results.
        yield from pool.map(scan, paths, chunksize=16)


def _labels_text(findings: Findings) -> list[tuple[str, str]]:
    if findings.verdict is Verdict.UNSCANNABLE:
        rows = [("unscannable: " + (findings.unscannable_reason or ""), "")]
    else:
        rows = []
    rows.extend((label.describe(), "; ".join(label.where)) for label in findings.labels)
    if findings.ocr_ms is not None:
        rows.append((f"read by OCR in {findings.ocr_ms / 1000:.1f} s", ""))
    elif findings.ocr_pending and findings.verdict is Verdict.LABELLED:
        rows.append((NOT_READ_BY_OCR, ""))
    return rows or [("", "")]


def _width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _print_table(results: list[Findings], out: TextIO) -> None:
    rows: list[tuple[str, str, str, str]] = []
    for findings in results:
        name = visible(findings.path)
        for index, (label, where) in enumerate(_labels_text(findings)):
            first = index == 0
            rows.append(
                (name if first else "", findings.verdict.value if first else "", label, where)
            )
    headers = ("FILE", "VERDICT", "LABELS", "WHERE FOUND")
    table = [headers, *rows]
    widths = [min(_MAX_COLUMN, max(_width(row[i]) for row in table)) for i in range(3)]
    for row in table:
        cells = [_pad(row[i], widths[i]) for i in range(3)]
        print("  ".join([*cells, row[3]]).rstrip(), file=out)


class _Progress:
    """A one-line counter on a terminal's stderr; silent when stderr is piped."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.enabled = total > 1 and stream.isatty()
        self.last = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if self.enabled and (now - self.last >= _PROGRESS_INTERVAL or done == self.total):
            self.last = now
            self.stream.write(f"\rscanning: {done}/{self.total} files")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    expanded = _expand(args.paths, args.recursive)
    if isinstance(expanded, str):
        return _usage_error(expanded)
    progress = _Progress(len(expanded), sys.stderr)
    results: list[Findings] = []
    flagged = False
    limits = _limits(ocr=not args.no_ocr)
    for done, findings in enumerate(_scan_all(expanded, args.jobs, limits), start=1):
        flagged = flagged or findings.verdict is not Verdict.CLEAN
        if args.json:
            # Written as each file finishes so a long scan streams into a pipe.
            print(json.dumps(findings.to_dict(), ensure_ascii=False), flush=True)
        else:
            results.append(findings)
        progress.update(done)
    progress.close()
    if not args.json:
        _print_table(results, sys.stdout)
    return EXIT_FOUND if flagged else EXIT_CLEAN
