"""Writes the small example files in resources/examples/ that `make run` scans.

Run with the test tools installed (`.venv/bin/python resources/make_examples.py`); the outputs
are committed, so nobody needs to run this to try SendGuard.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

OUT = Path(__file__).resolve().parent / "examples"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
#: The label id from Microsoft's documentation example of MIP metadata.
LABEL = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml"
 ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/docProps/custom.xml"
 ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"/>
</Types>"""

ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Target="word/document.xml"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>
<Relationship Id="rId2" Target="docProps/custom.xml"
 Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"/>
{extra}
</Relationships>"""

LABELINFO_REL = """<Relationship Id="rId3" Target="docMetadata/LabelInfo.xml"
 Type="http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels"/>"""

DOCUMENT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
{paragraphs}
</w:body></w:document>"""

CUSTOM = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
 xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">{props}</Properties>"""

PROPERTY = """<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" name="{name}">\
<vt:lpwstr>{value}</vt:lpwstr></property>"""

LABELINFO = f"""<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">
<clbl:label id="{{87867195-f2b8-4ac2-b0b6-6bb73cb33afc}}" enabled="1" method="Privileged"
 siteId="{{{TENANT}}}" removed="0" /></clbl:labelList>"""


def docx(paragraphs: list[str], properties: dict[str, str], labelinfo: bool = False) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" for text in paragraphs)
    props = "".join(
        PROPERTY.format(pid=index + 2, name=name, value=value)
        for index, (name, value) in enumerate(properties.items())
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS.format(extra=LABELINFO_REL if labelinfo else ""))
        archive.writestr("word/document.xml", DOCUMENT.format(paragraphs=body))
        archive.writestr("docProps/custom.xml", CUSTOM.format(props=props))
        if labelinfo:
            archive.writestr("docMetadata/LabelInfo.xml", LABELINFO)
    return buffer.getvalue()


def pdf(lines: list[str], banner: str | None) -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    if banner:
        page.setFont("Helvetica-Bold", 12)
        page.drawCentredString(width / 2, height - 30, banner)
        page.drawCentredString(width / 2, 20, banner)
    page.setFont("Helvetica", 11)
    for index, line in enumerate(lines):
        page.drawString(72, height - 100 - 16 * index, line)
    page.save()
    return buffer.getvalue()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    mip = {
        f"MSIP_Label_{LABEL}_Enabled": "true",
        f"MSIP_Label_{LABEL}_SiteId": TENANT,
        f"MSIP_Label_{LABEL}_Name": "Confidential",
        f"MSIP_Label_{LABEL}_Method": "Privileged",
        f"MSIP_Label_{LABEL}_ContentBits": "2",
    }
    files: dict[str, bytes] = {
        "budget-2027.docx": docx(["Budget 2027", "Draft figures for the board."], mip),
        "board-minutes.docx": docx(["Minutes of the board meeting."], {}, labelinfo=True),
        "shopping-list.docx": docx(["Milk", "Bread", "The secret to great bread is time."], {}),
        "incident-report.txt": (
            b"TLP:AMBER\n\nIncident report 2026-114\nPhishing wave against finance.\n"
        ),
        "通知.txt": "机密★1年\n\n关于年度检查工作的通知\n各部门：请按时提交材料。\n".encode(),
        "nda-template.txt": (
            b"Mutual Non-Disclosure Agreement\n\n1. 'Confidential Information' means any"
            b" information disclosed by either party.\n2. This agreement lasts two years.\n"
        ),
        "press-release.pdf": pdf(["Contoso opens a new office in Leeds."], banner=None),
        "briefing.pdf": pdf(["Briefing for the minister."], banner="OFFICIAL-SENSITIVE"),
        "quarterly.eml": (
            "From: cfo@contoso.example\r\nTo: board@contoso.example\r\n"
            "Subject: Q3 numbers\r\nMIME-Version: 1.0\r\n"
            f"msip_labels: MSIP_Label_{LABEL}_Enabled=true;\r\n"
            f" MSIP_Label_{LABEL}_SiteId={TENANT}; MSIP_Label_{LABEL}_Name=Confidential;\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\nNumbers attached.\r\n"
        ).encode(),
    }
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("handover/budget-2027.docx", files["budget-2027.docx"])
        bundle.writestr("handover/readme.txt", "Handover pack.\n")
    files["handover.zip"] = archive.getvalue()
    for name, data in files.items():
        (OUT / name).write_bytes(data)
        print(f"wrote {OUT / name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
