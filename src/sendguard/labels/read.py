"""What a file's labels are: the one answer the engine and ``sendguard scan`` both give.

`read_labels` is `detect` without OCR (the quick scan: milliseconds), then, when that scan
says content only OCR can read was left unread (``Findings.ocr_pending``: a photo of a page,
a PDF whose pages have no text) and the limits ask for OCR (``Limits.ocr``), the full read
with OCR, whose findings replace the quick scan's. With ``Limits(ocr=False)`` it is exactly
`detect`, and the findings say ``ocr_pending``.

The full read runs in `worker` (a `ScanWorker`: the OCR model's memory leaves with the child,
and a read that overruns `timeout` is stopped) or, without one, in this process. It fails
closed: a picture the worker could not read is ``unscannable``, never ``clean``.

The engine reads a file arriving in a group folder with OCR off (``Limits.ocr`` false: it
stays in place, or is held when the findings say ``ocr_pending``) and a held file with the
policy's ``[ocr]`` settings and its worker; ``sendguard scan`` reads with OCR in its own
process, unless ``--no-ocr``.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sendguard.labels.context import DEFAULT_LIMITS, Limits
from sendguard.labels.detect import detect
from sendguard.labels.model import Findings

if TYPE_CHECKING:
    from sendguard.labels.worker import ScanWorker

#: Seconds the worker is given to read one file with OCR before it is stopped.
WORKER_TIMEOUT = 60.0


def read_labels(
    path: str | os.PathLike[str],
    limits: Limits = DEFAULT_LIMITS,
    name_patterns: Sequence[re.Pattern[str]] = (),
    worker: ScanWorker | None = None,
    *,
    timeout: float = WORKER_TIMEOUT,
) -> Findings:
    """Every label in the file at `path`, OCR included when `limits` ask for it.

    Raises FileNotFoundError / IsADirectoryError as `detect` does (also when the file goes
    away before the worker reads it); never raises for the file's content.
    """
    started = time.perf_counter()
    quick = detect(path, limits=replace(limits, ocr=False), name_patterns=name_patterns)
    if not (quick.ocr_pending and limits.ocr):
        return quick
    if worker is None:
        full = detect(path, limits=limits, name_patterns=name_patterns)
    else:
        from sendguard.labels.worker import WorkerFailed

        try:
            full = worker.scan(path, limits, name_patterns, timeout=timeout)
        except WorkerFailed as exc:
            quick.mark_unscannable(f"the picture could not be read: {exc}")
            full = quick
    full.elapsed_ms = (time.perf_counter() - started) * 1000
    return full
