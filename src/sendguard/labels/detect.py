"""The label engine's entry point: ``detect(path) -> Findings``.

Content sniffing picks the detector; every detector reads as little as it can; anything that
cannot be read ends as ``unscannable`` with a reason, never as ``clean``.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sendguard.labels.context import DEFAULT_LIMITS, Limits, ScanContext, Source, Unscannable
from sendguard.labels.filetags import findings_from_name, findings_from_tags
from sendguard.labels.model import Findings
from sendguard.labels.safezip import open_zip, read_member, scan_members
from sendguard.labels.sniff import Format, sniff

Detector = Callable[[Source, ScanContext], None]

#: What an extension promises, for the "name does not match content" note.
_EXTENSION_FAMILY: dict[str, set[Format]] = {
    ".pdf": {Format.PDF},
    ".txt": {Format.TEXT, Format.EMPTY},
    ".csv": {Format.TEXT, Format.EMPTY},
    ".md": {Format.TEXT, Format.EMPTY},
    ".rtf": {Format.RTF},
    ".eml": {Format.EML},
    ".html": {Format.HTML},
    ".htm": {Format.HTML},
    ".zip": {Format.ZIP},
    ".doc": {Format.OLE},
    ".xls": {Format.OLE},
    ".ppt": {Format.OLE},
    ".msg": {Format.OLE},
    ".png": {Format.IMAGE},
    ".jpg": {Format.IMAGE},
    ".jpeg": {Format.IMAGE},
}
for _ext in (".docx", ".docm", ".xlsx", ".xlsm", ".pptx", ".pptm", ".odt", ".ods", ".odp"):
    # An RMS-protected Office file keeps its .docx/.xlsx name but is an OLE container.
    _EXTENSION_FAMILY[_ext] = {Format.ZIP, Format.OLE}

_ODF_MIMETYPE = b"application/vnd.oasis.opendocument."


def detect(
    path: str | os.PathLike[str],
    *,
    limits: Limits = DEFAULT_LIMITS,
    name_patterns: Sequence[re.Pattern[str]] = (),
) -> Findings:
    """Every label in the file at `path`, with where each was found, and a verdict.

    Never raises for the file's content: what cannot be read is ``unscannable`` with a reason.
    Raises FileNotFoundError / IsADirectoryError when `path` is not a file at all.
    """
    started = time.perf_counter()
    text_path = os.fspath(path)
    findings = Findings(path=text_path)
    try:
        info = os.stat(text_path)
    except FileNotFoundError:
        raise
    except OSError as exc:
        # A symlink loop, a name too long, an I/O error: it may be a file, so fail closed.
        findings.mark_unscannable(f"cannot be opened: {exc.strerror or exc}")
        return findings
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(text_path)
    if not stat.S_ISREG(info.st_mode):
        findings.format = "special"
        findings.mark_unscannable("not a regular file (a device, pipe or socket)")
        return findings
    try:
        with open(text_path, "rb"):
            pass
    except OSError as exc:
        # It exists but cannot be read (no permission, I/O error): fail closed.
        findings.mark_unscannable(f"cannot be opened: {exc.strerror or exc}")
        return findings
    ctx = ScanContext.start(findings, limits)
    ctx.scan_nested = _scan_nested
    name = Path(text_path).name
    findings.extend(findings_from_name(name, name_patterns))
    findings.extend(findings_from_tags(text_path))
    try:
        _scan_source(Source(name, path=text_path), ctx)
    except Unscannable as exc:
        findings.mark_unscannable(exc.reason)
    except (MemoryError, RecursionError) as exc:
        findings.mark_unscannable(f"too complex to scan ({type(exc).__name__})")
    except Exception as exc:
        findings.mark_unscannable(
            f"the {findings.format} reader failed: {type(exc).__name__}: {exc}"
        )
    findings.elapsed_ms = (time.perf_counter() - started) * 1000
    return findings


def _scan_source(source: Source, ctx: ScanContext) -> None:
    ctx.check_time()
    sniffed = sniff(source)
    ctx.refine_format(sniffed.format.value)
    if ctx.depth == 0:
        _note_extension_mismatch(source.name, sniffed.format, ctx.findings)
    if sniffed.polyglot:
        raise Unscannable(f"{sniffed.polyglot}: its meaning depends on the program opening it")
    _DETECTORS[sniffed.format](source, ctx)


def _scan_nested(source: Source, ctx: ScanContext) -> None:
    """A file inside another (archive member, attachment): its problems are recorded, with
    where they are, and the scan of the outer file goes on so its other labels are still seen."""
    ctx.add_all(findings_from_name(source.name))
    try:
        if ctx.depth > ctx.limits.max_archive_depth:
            raise Unscannable(f"nested more than {ctx.limits.max_archive_depth} levels deep")
        _scan_source(source, ctx)
    except Unscannable as exc:
        ctx.findings.mark_unscannable(f"{ctx.prefix}: {exc.reason}")
    except (MemoryError, RecursionError) as exc:
        ctx.findings.mark_unscannable(f"{ctx.prefix}: too complex to scan ({type(exc).__name__})")
    except Exception as exc:
        ctx.findings.mark_unscannable(f"{ctx.prefix}: reader failed: {type(exc).__name__}: {exc}")


def _note_extension_mismatch(name: str, fmt: Format, findings: Findings) -> None:
    expected = _EXTENSION_FAMILY.get(Path(name).suffix.lower())
    if expected is not None and fmt not in expected:
        findings.notes.append(
            f"the name says {Path(name).suffix.lower()} but the content is {fmt.value};"
            " scanned as what the content is"
        )


def _scan_zip(source: Source, ctx: ScanContext) -> None:
    with open_zip(source, ctx) as archive:
        names = set(archive.namelist())
        if "[Content_Types].xml" in names:
            from sendguard.labels.ooxml import scan_ooxml

            scan_ooxml(archive, ctx)
        elif "mimetype" in names and read_member(archive, "mimetype", ctx, 256).startswith(
            _ODF_MIMETYPE
        ):
            from sendguard.labels.odf import scan_odf

            scan_odf(archive, ctx)
        else:
            scan_members(archive, ctx)


def _scan_empty(source: Source, ctx: ScanContext) -> None:
    if ctx.depth == 0:
        ctx.findings.notes.append("empty file: nothing to label")


def _scan_binary(source: Source, ctx: ScanContext) -> None:
    """No labelling scheme lives in an unknown binary; its name and tags were checked."""


def _scan_pdf(source: Source, ctx: ScanContext) -> None:
    from sendguard.labels.pdf import scan_pdf

    scan_pdf(source, ctx)


def _scan_ole(source: Source, ctx: ScanContext) -> None:
    from sendguard.labels.ole import scan_ole

    scan_ole(source, ctx)


def _scan_text(source: Source, ctx: ScanContext) -> None:
    from sendguard.labels.text import scan_text

    scan_text(source, ctx)


def _scan_html(source: Source, ctx: ScanContext) -> None:
    from sendguard.labels.text import scan_html

    scan_html(source, ctx)


def _scan_xml(source: Source, ctx: ScanContext) -> None:
    from sendguard.labels.text import scan_xml

    scan_xml(source, ctx)


def _scan_rtf(source: Source, ctx: ScanContext) -> None:
    from sendguard.labels.text import scan_rtf

    scan_rtf(source, ctx)


def _scan_eml(source: Source, ctx: ScanContext) -> None:
    from sendguard.labels.eml import scan_eml

    scan_eml(source, ctx)


def _scan_flat_odf(source: Source, ctx: ScanContext) -> None:
    from sendguard.labels.odf import scan_flat_odf

    scan_flat_odf(source, ctx)


def _scan_image(source: Source, ctx: ScanContext) -> None:
    from sendguard.labels.image import scan_image

    scan_image(source, ctx)


_DETECTORS: dict[Format, Detector] = {
    Format.EMPTY: _scan_empty,
    Format.ZIP: _scan_zip,
    Format.OLE: _scan_ole,
    Format.PDF: _scan_pdf,
    Format.RTF: _scan_rtf,
    Format.EML: _scan_eml,
    Format.HTML: _scan_html,
    Format.FLAT_ODF: _scan_flat_odf,
    Format.XML: _scan_xml,
    Format.TEXT: _scan_text,
    Format.IMAGE: _scan_image,
    Format.BINARY: _scan_binary,
}
