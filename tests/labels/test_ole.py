"""OLE compound files: RMS-protected and encrypted Office files, legacy property sets, .msg.

olefile cannot write compound files, so ``write_cfb`` below builds them (MS-CFB version 3:
512-byte sectors, streams under 4096 bytes in the mini stream), and ``property_set`` builds
MS-OLEPS property set streams. Both are checked against olefile's own reader.
"""

from __future__ import annotations

import contextlib
import itertools
import struct
import uuid
from dataclasses import replace
from pathlib import Path

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sendguard.labels import detect
from sendguard.labels.context import DEFAULT_LIMITS, Limits, ScanContext, Source, Unscannable
from sendguard.labels.model import Findings, Scheme, Verdict
from sendguard.labels.ole import (
    FMTID_DOC_SUMMARY,
    FMTID_SUMMARY,
    FMTID_USER_DEFINED,
    PropertySetError,
    parse_property_set_stream,
    scan_ole,
)

MICROSOFT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
GUID = "9fbde396-1a24-4c79-8edf-9254a0f35055"
TENANT = "cb46c030-1825-4e81-a295-151c039dbf02"
WORD_CLSID = "00020906-0000-0000-C000-000000000046"

# --- a minimal compound file writer -----------------------------------------------------

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREE, END, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b"", clsid: str | None = None) -> None:
        self.name = name
        self.kind = kind  # 1 storage, 2 stream, 5 root
        self.data = data
        self.clsid = uuid.UUID(clsid).bytes_le if clsid else b"\0" * 16
        self.children: dict[str, _Entry] = {}
        self.start = END
        self.index = 0


def _order(entry: _Entry) -> tuple[int, str]:
    return (len(entry.name), entry.name.upper())


def write_cfb(path: Path, streams: dict[str, bytes], root_clsid: str | None = None) -> Path:
    """A compound file holding `streams` ("storage/sub/stream" → bytes)."""
    root = _Entry("Root Entry", 5, clsid=root_clsid)
    for name, data in streams.items():
        node = root
        *folders, leaf = name.split("/")
        for folder in folders:
            node = node.children.setdefault(folder, _Entry(folder, 1))
        node.children[leaf] = _Entry(leaf, 2, data)
    entries: list[_Entry] = []

    def number(entry: _Entry) -> None:
        entry.index = len(entries)
        entries.append(entry)
        for child in sorted(entry.children.values(), key=_order):
            number(child)

    number(root)
    streams_ = [e for e in entries if e.kind == 2]
    small = [e for e in streams_ if len(e.data) < CUTOFF]
    big = [e for e in streams_ if len(e.data) >= CUTOFF]

    mini_stream = b""
    mini_fat: list[int] = []
    for entry in small:
        if not entry.data:
            entry.start = END
            continue
        entry.start = len(mini_stream) // MINI
        count = -(-len(entry.data) // MINI)
        mini_fat += [entry.start + k + 1 for k in range(count - 1)] + [END]
        mini_stream += entry.data.ljust(count * MINI, b"\0")

    def sectors(size: int) -> int:
        return -(-size // SECTOR)

    n_dir = sectors(len(entries) * 128)
    n_minifat = sectors(len(mini_fat) * 4)
    n_mini = sectors(len(mini_stream))
    n_big = sum(sectors(len(e.data)) for e in big)
    n_fat = 1
    while n_fat * (SECTOR // 4) < n_fat + n_dir + n_minifat + n_mini + n_big:
        n_fat += 1
    assert n_fat <= 109

    fat: list[int] = [FATSECT] * n_fat
    body = b""

    def chain(data: bytes) -> int:
        nonlocal body
        if not data:
            return END
        start = len(fat)
        count = sectors(len(data))
        fat.extend([start + k + 1 for k in range(count - 1)] + [END])
        body += data.ljust(count * SECTOR, b"\0")
        return start

    directory_start = len(fat)
    fat.extend([directory_start + k + 1 for k in range(n_dir - 1)] + [END])
    body += b"\0" * (n_dir * SECTOR)  # filled in below
    minifat_start = chain(b"".join(struct.pack("<I", v) for v in mini_fat))
    root.start = chain(mini_stream)
    for entry in big:
        entry.start = chain(entry.data)

    def record(entry: _Entry) -> bytes:
        name = entry.name.encode("utf-16-le") + b"\0\0"
        kids = sorted(entry.children.values(), key=_order)
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name),
            entry.kind,
            1,  # black
            NOSTREAM,
            NOSTREAM,  # siblings are set by the parent below
            kids[0].index if kids else NOSTREAM,
            entry.clsid,
            0,
            0,
            0,
            entry.start if entry.kind != 1 else 0,
            len(mini_stream) if entry.kind == 5 else len(entry.data),
        )

    raw = bytearray(b"".join(record(e) for e in entries))
    for entry in entries:  # right-sibling chains in sorted order: a valid search tree
        kids = sorted(entry.children.values(), key=_order)
        for left, right in itertools.pairwise(kids):
            struct.pack_into("<I", raw, left.index * 128 + 72, right.index)
    while len(raw) % SECTOR:
        raw += struct.pack("<64sHBBIII", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM) + b"\0" * 48
    body = bytes(raw) + body[len(raw) :]
    fat_bytes = b"".join(struct.pack("<I", v) for v in fat).ljust(n_fat * SECTOR, b"\xff")
    difat = [k for k in range(n_fat)] + [FREE] * (109 - n_fat)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\0" * 16,
        0x3E,
        3,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,
        n_fat,
        directory_start,
        0,
        CUTOFF,
        minifat_start if mini_fat else END,
        n_minifat,
        END,
        0,
    ) + b"".join(struct.pack("<I", v) for v in difat)
    path.write_bytes(header + fat_bytes + body)
    return path


# --- MS-OLEPS property sets -------------------------------------------------------------


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def vt_lpstr(text: str, codec: str = "cp1252") -> bytes:
    data = (text + "\0").encode(codec)
    return _pad(struct.pack("<HHI", 0x1E, 0, len(data)) + data)


def vt_lpwstr(text: str) -> bytes:
    return _pad(struct.pack("<HHI", 0x1F, 0, len(text) + 1) + (text + "\0").encode("utf-16-le"))


def vt_bool(value: bool) -> bytes:
    return struct.pack("<HHH2x", 0x0B, 0, 0xFFFF if value else 0)


def vt_i4(value: int) -> bytes:
    return struct.pack("<HHi", 0x03, 0, value)


def vt_codepage(codepage: int) -> bytes:
    return struct.pack("<HHH2x", 0x02, 0, codepage)


def dictionary(names: dict[int, str], codepage: int) -> bytes:
    out = struct.pack("<I", len(names))
    for pid, name in names.items():
        if codepage == 1200:
            encoded = (name + "\0").encode("utf-16-le")
            out += struct.pack("<II", pid, len(name) + 1) + _pad(encoded)
        else:
            encoded = (name + "\0").encode(f"cp{codepage}")
            out += struct.pack("<II", pid, len(encoded)) + encoded
    return _pad(out)


def section(properties: dict[int, bytes]) -> bytes:
    header_size = 8 + 8 * len(properties)
    offsets = b""
    values = b""
    for pid, value in properties.items():
        offsets += struct.pack("<II", pid, header_size + len(values))
        values += value
    return struct.pack("<II", header_size + len(values), len(properties)) + offsets + values


def property_set(*sections: tuple[uuid.UUID, bytes]) -> bytes:
    out = struct.pack("<HHI16sI", 0xFFFE, 0, 0x00020006, b"\0" * 16, len(sections))
    offset = 28 + 20 * len(sections)
    table = b""
    for fmtid, data in sections:
        table += fmtid.bytes_le + struct.pack("<I", offset)
        offset += len(data)
    return out + table + b"".join(data for _, data in sections)


def user_defined(pairs: list[tuple[str, bytes]], codepage: int = 1252) -> bytes:
    """DocumentSummaryInformation with its user-defined section (the second one)."""
    properties = {1: vt_codepage(codepage), 0: dictionary({}, codepage)}
    names = {}
    for index, (name, value) in enumerate(pairs):
        names[index + 2] = name
        properties[index + 2] = value
    properties[0] = dictionary(names, codepage)
    first = section({1: vt_codepage(codepage), 0x0F: vt_lpstr("Contoso")})
    return property_set((FMTID_DOC_SUMMARY, first), (FMTID_USER_DEFINED, section(properties)))


def summary(keywords: str) -> bytes:
    return property_set(
        (
            FMTID_SUMMARY,
            section({1: vt_codepage(1252), 2: vt_lpstr("Title"), 5: vt_lpstr(keywords)}),
        )
    )


def msip_pairs(enabled: bool = True) -> list[tuple[str, bytes]]:
    return [
        (f"MSIP_Label_{GUID}_Enabled", vt_lpstr("true" if enabled else "false")),
        (f"MSIP_Label_{GUID}_SiteId", vt_lpstr(TENANT)),
        (f"MSIP_Label_{GUID}_Name", vt_lpwstr("Highly Confidential")),
        (f"MSIP_Label_{GUID}_ContentBits", vt_i4(0)),
    ]


def word_fib(encrypted: bool = False, size: int = 1024) -> bytes:
    flags = 0x0100 if encrypted else 0
    return struct.pack("<HHHHHH", 0xA5EC, 0xC1, 0, 0, 0, flags).ljust(size, b"\0")


# --- running the detector ---------------------------------------------------------------


def run(path: Path, limits: Limits = DEFAULT_LIMITS) -> tuple[Findings, str | None]:
    findings = Findings(path=str(path))
    ctx = ScanContext.start(findings, limits)
    try:
        scan_ole(Source(path.name, path=str(path)), ctx)
    except Unscannable as exc:
        return findings, exc.reason
    return findings, None


def scan(path: Path) -> Findings:
    findings, reason = run(path)
    assert reason is None, reason
    return findings


# --- the writers themselves -------------------------------------------------------------


def test_writer_output_is_read_by_olefile(tmp_path: Path) -> None:
    big = bytes(range(256)) * 40
    path = write_cfb(
        tmp_path / "a.doc",
        {
            "WordDocument": word_fib(),
            "\x05SummaryInformation": summary("alpha, beta"),
            "ObjectPool/_1234/\x01Ole": b"x" * 20,
            "Data": big,
        },
        root_clsid=WORD_CLSID,
    )
    with olefile.OleFileIO(str(path)) as ole:
        assert ole.openstream("Data").read() == big
        assert ole.openstream("ObjectPool/_1234/\x01Ole").read() == b"x" * 20
        assert ole.getproperties("\x05SummaryInformation")[5] == b"alpha, beta"
        assert ole.root is not None and ole.root.clsid == WORD_CLSID


def test_property_set_round_trip() -> None:
    data = user_defined([("Sensitivity", vt_lpstr("Secret")), ("Flag", vt_bool(True))])
    sections = parse_property_set_stream(data)
    assert [s.fmtid for s in sections] == [FMTID_DOC_SUMMARY, FMTID_USER_DEFINED]
    assert sections[1].named_pairs() == [("Sensitivity", "Secret"), ("Flag", "true")]
    assert sections[1].codepage == 1252


# --- RMS and encrypted Office files -----------------------------------------------------

LABELINFO = (
    '<?xml version="1.0" encoding="utf-8" standalone="yes"?><clbl:labelList '
    'xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata"><clbl:label '
    f'id="{{{GUID}}}" enabled="1" method="Standard" siteId="{{{MICROSOFT}}}" removed="0" />'
    "</clbl:labelList>"
)


def rms_streams(labelinfo: bytes | None) -> dict[str, bytes]:
    streams = {
        "\x06DataSpaces/Version": b"<\0\0\0" + "Microsoft.Container.DataSpaces".encode("utf-16-le"),
        "\x06DataSpaces/DataSpaceMap": b"\x08\0\0\0\x01\0\0\0",
        "\x06DataSpaces/DataSpaceInfo/DRMEncryptedDataSpace": b"\x08\0\0\0\x01\0\0\0",
        "\x06DataSpaces/TransformInfo/DRMEncryptedTransform/\x06Primary": b"X\0\0\0" * 30,
        "EncryptedPackage": bytes(range(256)) * 20,
    }
    if labelinfo is not None:
        streams["\x06DataSpaces/TransformInfo/LabelInfo"] = labelinfo
    return streams


def test_corpus_rms_file(corpus: Path) -> None:
    findings = scan(corpus / "reviewchecklists_acr_security_rms.xlsx")
    assert findings.format == "ole-rms"
    [label] = findings.labels
    assert (label.scheme, label.guid, label.site_id) == (Scheme.MIP, GUID, MICROSOFT)
    assert dict(label.attributes)["method"] == "Standard"
    assert label.where == ("OLE stream \\x06DataSpaces/TransformInfo/LabelInfo",)


@pytest.mark.parametrize(
    "stream",
    [
        LABELINFO.encode(),
        struct.pack("<I", len(LABELINFO)) + LABELINFO.encode(),  # a length prefix
        b"\xff\xfe" + LABELINFO.replace("utf-8", "utf-16").encode("utf-16-le"),
        struct.pack("<II", 8, 1) + LABELINFO.encode() + b"\0\0\0",  # header and padding
    ],
    ids=["plain", "length-prefixed", "utf-16", "header-and-padding"],
)
def test_rms_label_in_labelinfo_stream(tmp_path: Path, stream: bytes) -> None:
    findings = scan(write_cfb(tmp_path / "a.docx", rms_streams(stream)))
    assert findings.format == "ole-rms"
    assert [(f.guid, f.site_id) for f in findings.labels] == [(GUID, MICROSOFT)]


def test_rms_without_label_is_unscannable(tmp_path: Path) -> None:
    _, reason = run(write_cfb(tmp_path / "a.docx", rms_streams(None)))
    assert reason == "encrypted (RMS-protected) Office file with no readable label"


def test_rms_with_only_a_removed_label_is_unscannable(tmp_path: Path) -> None:
    removed = LABELINFO.replace('removed="0"', 'removed="1"').encode()
    _, reason = run(write_cfb(tmp_path / "a.docx", rms_streams(removed)))
    assert reason == "encrypted (RMS-protected) Office file with no readable label"


def test_rms_with_damaged_labelinfo_is_unscannable(tmp_path: Path) -> None:
    _, reason = run(write_cfb(tmp_path / "a.docx", rms_streams(LABELINFO[:90].encode())))
    assert reason is not None and reason.startswith("encrypted (RMS-protected)")
    assert "LabelInfo" in reason


def test_billion_laughs_in_labelinfo_stream_is_unscannable(tmp_path: Path) -> None:
    attack = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<clbl:labelList>&b;</clbl:labelList>"
    )
    _, reason = run(write_cfb(tmp_path / "a.docx", rms_streams(attack)))
    assert reason is not None and "entit" in reason


def test_password_encrypted_ooxml_without_label_is_unscannable(tmp_path: Path) -> None:
    streams = {
        "\x06DataSpaces/TransformInfo/StrongEncryptionTransform/\x06Primary": b"\0" * 100,
        "EncryptionInfo": b"\x04\0\x04\0\x40\0\0\0" + b"\0" * 100,
        "EncryptedPackage": bytes(range(256)) * 20,
    }
    findings, reason = run(write_cfb(tmp_path / "a.xlsx", streams))
    assert findings.format == "ole-encrypted"
    assert reason == "password-encrypted Office file with no readable label"


def test_password_encrypted_ooxml_with_label_is_labelled(tmp_path: Path) -> None:
    streams = {
        "\x06DataSpaces/TransformInfo/LabelInfo": LABELINFO.encode(),
        "EncryptionInfo": b"\x04\0\x04\0\x40\0\0\0" + b"\0" * 100,
        "EncryptedPackage": bytes(range(256)) * 20,
    }
    findings = scan(write_cfb(tmp_path / "a.xlsx", streams))
    assert [f.guid for f in findings.labels] == [GUID]


# --- legacy Office property sets --------------------------------------------------------


def test_doc_with_mip_and_titus_properties(tmp_path: Path) -> None:
    streams = {
        "WordDocument": word_fib(),
        "\x05SummaryInformation": summary("CTPClassification=CTP_IC:VisualMarkings="),
        "\x05DocumentSummaryInformation": user_defined(
            [*msip_pairs(), ("TitusGUID", vt_lpstr("16fba14b-b749-41e1-a9b5-4282776873bd"))]
        ),
    }
    findings = scan(write_cfb(tmp_path / "a.doc", streams, WORD_CLSID))
    assert findings.format == "doc"
    by_scheme = {f.scheme: f for f in findings.labels}
    assert set(by_scheme) == {Scheme.MIP, Scheme.TITUS}
    mip = by_scheme[Scheme.MIP]
    assert (mip.guid, mip.site_id, mip.name) == (GUID, TENANT, "Highly Confidential")
    assert mip.where == ("OLE \\x05DocumentSummaryInformation, user-defined properties",)
    titus = by_scheme[Scheme.TITUS]
    assert titus.value == "CTP_IC"
    assert titus.where == ("OLE \\x05SummaryInformation, keywords",)


def test_unicode_property_set(tmp_path: Path) -> None:
    streams = {
        "Workbook": struct.pack("<HH", 0x0809, 16) + b"\0" * 16,
        "\x05DocumentSummaryInformation": user_defined(
            [("Classification", vt_lpstr("Geheim", "utf-16-le")), ("机密", vt_bool(True))],
            codepage=1200,
        ),
    }
    findings = scan(write_cfb(tmp_path / "a.xls", streams))
    assert findings.format == "xls"
    assert [(f.scheme, f.name, f.value) for f in findings.labels] == [
        (Scheme.DOCUMENT_PROPERTY, "Classification", "Geheim")
    ]


def test_disabled_mip_label_in_doc_is_no_label(tmp_path: Path) -> None:
    streams = {
        "WordDocument": word_fib(),
        "\x05DocumentSummaryInformation": user_defined(msip_pairs(enabled=False)),
    }
    assert scan(write_cfb(tmp_path / "a.doc", streams)).labels == []


@pytest.mark.parametrize("size", [1024, 64 * 1024], ids=["mini-stream", "regular-sectors"])
def test_plain_doc_is_clean(tmp_path: Path, size: int) -> None:
    streams = {"WordDocument": word_fib(size=size), "\x05SummaryInformation": summary("minutes")}
    findings = scan(write_cfb(tmp_path / "a.doc", streams))
    assert findings.labels == [] and findings.verdict is Verdict.CLEAN


def test_ppt_format(tmp_path: Path) -> None:
    streams = {
        "PowerPoint Document": b"\0" * 64,
        "Current User": struct.pack("<HHIII", 0, 0x0FF6, 20, 20, 0xE391C05F).ljust(40, b"\0"),
    }
    assert scan(write_cfb(tmp_path / "a.ppt", streams)).format == "ppt"


@pytest.mark.parametrize("size", [1024, 64 * 1024], ids=["mini-stream", "regular-sectors"])
def test_password_encrypted_doc_without_label_is_unscannable(tmp_path: Path, size: int) -> None:
    streams = {"WordDocument": word_fib(encrypted=True, size=size), "1Table": b"\0" * 64}
    _, reason = run(write_cfb(tmp_path / "a.doc", streams))
    assert reason == "password-encrypted Word document with no readable label"


def test_password_encrypted_doc_with_label_is_labelled(tmp_path: Path) -> None:
    streams = {
        "WordDocument": word_fib(encrypted=True),
        "\x05DocumentSummaryInformation": user_defined(msip_pairs()),
    }
    assert [f.guid for f in scan(write_cfb(tmp_path / "a.doc", streams)).labels] == [GUID]


def test_password_encrypted_xls_is_unscannable(tmp_path: Path) -> None:
    workbook = (
        struct.pack("<HH", 0x0809, 16) + b"\0" * 16 + struct.pack("<HH", 0x002F, 6) + b"\1" * 6
    ).ljust(20_000, b"\0")  # past the mini stream: read from its first sector only
    _, reason = run(write_cfb(tmp_path / "a.xls", {"Workbook": workbook}))
    assert reason == "password-encrypted Excel workbook with no readable label"


def test_password_encrypted_ppt_is_unscannable(tmp_path: Path) -> None:
    streams = {
        "PowerPoint Document": b"\0" * 64,
        "Current User": struct.pack("<HHIII", 0, 0x0FF6, 20, 20, 0xF3D1C4DF).ljust(40, b"\0"),
    }
    _, reason = run(write_cfb(tmp_path / "a.ppt", streams))
    assert reason == "password-encrypted PowerPoint presentation with no readable label"


def test_encrypted_document_properties_are_unscannable(tmp_path: Path) -> None:
    streams = {"WordDocument": word_fib(encrypted=True), "encryption": b"\0" * 200}
    _, reason = run(write_cfb(tmp_path / "a.doc", streams))
    assert reason is not None and "document properties are encrypted" in reason


def test_damaged_property_set_is_unscannable(tmp_path: Path) -> None:
    data = bytearray(user_defined(msip_pairs()))
    struct.pack_into("<I", data, 28 + 20 + 16, 60_000)  # the second section's offset
    streams = {"WordDocument": word_fib(), "\x05DocumentSummaryInformation": bytes(data)}
    _, reason = run(write_cfb(tmp_path / "a.doc", streams))
    assert reason is not None
    assert "damaged property set" in reason and "\\x05DocumentSummaryInformation" in reason


def test_not_a_compound_file_is_unscannable(tmp_path: Path) -> None:
    path = tmp_path / "a.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    _, reason = run(path)
    assert reason is not None and reason.startswith("damaged OLE compound file")


@pytest.mark.parametrize(
    ("offset", "value", "words"),
    [(30, 30, "sector shift 30"), (26, 7, "version 7"), (32, 20, "mini stream")],
)
def test_damaged_header_fields_are_refused_before_olefile_trusts_them(
    tmp_path: Path, offset: int, value: int, words: str
) -> None:
    path = write_cfb(tmp_path / "a.doc", {"WordDocument": word_fib()})
    data = bytearray(path.read_bytes())
    struct.pack_into("<H", data, offset, value)
    path.write_bytes(bytes(data))
    _, reason = run(path)
    assert reason is not None and reason.startswith("damaged OLE compound file")
    assert words in reason


def test_truncated_compound_file_is_unscannable(tmp_path: Path) -> None:
    streams = {
        "WordDocument": word_fib() * 8,
        "\x05DocumentSummaryInformation": user_defined(msip_pairs()),
    }
    path = write_cfb(tmp_path / "a.doc", streams)
    path.write_bytes(path.read_bytes()[:1600])
    result = detect(path)
    assert result.verdict is Verdict.UNSCANNABLE, result.to_dict()


def test_time_budget(tmp_path: Path) -> None:
    path = write_cfb(
        tmp_path / "a.doc", {"WordDocument": word_fib(), "\x05SummaryInformation": summary("x")}
    )
    _, reason = run(path, replace(DEFAULT_LIMITS, time_budget=-1.0))
    assert reason is not None and "budget" in reason


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_property_set_bytes_raise_only_property_set_errors(data: bytes) -> None:
    with contextlib.suppress(PropertySetError):
        parse_property_set_stream(data)


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=255))
def test_corrupted_compound_file_is_unscannable_or_scanned(
    tmp_path_factory: pytest.TempPathFactory, offset: int, value: int
) -> None:
    streams = {
        "WordDocument": word_fib(),
        "\x05SummaryInformation": summary("CTPClassification=CTP_IC"),
        "\x05DocumentSummaryInformation": user_defined(msip_pairs()),
        "Data": bytes(range(256)) * 20,
    }
    path = write_cfb(tmp_path_factory.mktemp("fuzz") / "a.doc", streams)
    data = bytearray(path.read_bytes())
    data[offset % len(data)] = value
    path.write_bytes(bytes(data))
    run(path)  # only Unscannable may come out


# --- Outlook messages -------------------------------------------------------------------


def test_msg_named_property_and_transport_headers(tmp_path: Path) -> None:
    value = (
        f"MSIP_Label_{GUID}_Enabled=true; MSIP_Label_{GUID}_SiteId={TENANT}; "
        f"MSIP_Label_{GUID}_Name=Confidential; MSIP_Label_{GUID}_Method=Standard;"
    )
    headers = (
        "Received: from x\r\nmsip_labels: MSIP_Label_"
        f"{GUID}_Enabled=true;\r\n MSIP_Label_{GUID}_SiteId={TENANT};\r\nSubject: hi\r\n"
    )
    streams = {
        "__properties_version1.0": b"\0" * 32,
        "__substg1.0_0037001F": "Quarterly numbers".encode("utf-16-le"),
        "__substg1.0_8005001F": value.encode("utf-16-le"),
        "__substg1.0_007D001F": headers.encode("utf-16-le"),
        "__nameid_version1.0/__substg1.0_00020102": b"\0" * 16,
    }
    findings = scan(write_cfb(tmp_path / "a.msg", streams))
    assert findings.format == "msg"
    [label] = findings.labels
    assert (label.guid, label.site_id, label.name) == (GUID, TENANT, "Confidential")
    assert set(label.where) == {
        "msg property msip_labels (__substg1.0_8005001F)",
        "msg transport headers, msip_labels",
    }


def test_plain_msg_is_clean(tmp_path: Path) -> None:
    streams = {
        "__properties_version1.0": b"\0" * 32,
        "__substg1.0_0037001F": "Lunch?".encode("utf-16-le"),
    }
    findings = scan(write_cfb(tmp_path / "a.msg", streams))
    assert findings.format == "msg" and findings.labels == []


def test_a_directory_tree_that_loops_is_unscannable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fuzzing found damaged directories on which olefile's listdir recurses without end."""

    def loops(*_args: object, **_kwargs: object) -> list[list[str]]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(olefile.OleFileIO, "listdir", loops)
    path = write_cfb(tmp_path / "a.doc", {"WordDocument": word_fib()})
    _, reason = run(path)
    assert reason is not None and "loops" in reason
