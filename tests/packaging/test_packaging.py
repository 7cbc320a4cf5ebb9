"""The installers' sources: every XML file well-formed; desktop entries and AppStream metainfo
validated by their own tools; plists through plistlib; the Windows and macOS templates
checked against the reader that consumes their values.

Not run here: WiX (`wix build`), Group Policy, pkgbuild/productbuild and launchd exist only
on Windows and macOS. No ADMX schema ships offline, so the ADMX/ADML files are checked for
well-formedness and for consistency with each other and with the reader, not against
Microsoft's XSD. Building and installing the .deb is done by .ci/run (`make deb`, `dpkg -i`).
"""

from __future__ import annotations

import ast
import plistlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from defusedxml import ElementTree

from sendguard.policy.managed import (
    PREFERENCE_DOMAIN,
    REG_DWORD,
    REG_MULTI_SZ,
    REG_SZ,
    REGISTRY_KEY,
    ManagedValues,
    managed_layer,
    read_registry,
)

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
ADMX_NS = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
WIX_NS = {"w": "http://wixtoolset.org/schemas/v4/wxs"}
XML_FILES = sorted(
    path
    for pattern in ("*.xml", "*.wxs", "*.admx", "*.adml", "*.plist", "*.mobileconfig")
    for path in PACKAGING.rglob(pattern)
)


def test_there_are_xml_files_for_every_platform() -> None:
    suffixes = {path.suffix for path in XML_FILES}
    assert suffixes == {".xml", ".wxs", ".admx", ".adml", ".plist", ".mobileconfig"}


@pytest.mark.parametrize("path", XML_FILES, ids=lambda p: str(p.relative_to(PACKAGING)))
def test_xml_is_well_formed(path: Path) -> None:
    ElementTree.parse(path)


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: .ci/run installs it (apt-get install)")
    return found


@pytest.mark.parametrize("name", ["org.sendguard.SendGuard", "org.sendguard.SendGuard-autostart"])
def test_desktop_entries_are_valid(name: str) -> None:
    path = PACKAGING / "linux" / f"{name}.desktop"
    done = subprocess.run(
        [tool("desktop-file-validate"), str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in done.stdout
    text = path.read_text(encoding="utf-8")
    assert "Exec=sendguard app" in text and "Icon=org.sendguard.SendGuard" in text


def test_appstream_metainfo_is_valid(tmp_path: Path) -> None:
    template = (PACKAGING / "linux" / "org.sendguard.SendGuard.metainfo.xml").read_text("utf-8")
    filled = tmp_path / "org.sendguard.SendGuard.metainfo.xml"
    filled.write_text(template.replace("@VERSION@", "0.1.0").replace("@DATE@", "2026-01-31"))
    done = subprocess.run(
        [tool("appstreamcli"), "validate", "--no-net", str(filled)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "path",
    [
        PACKAGING / "macos" / "org.sendguard.SendGuard.plist",
        PACKAGING / "macos" / "org.sendguard.SendGuard.mobileconfig",
    ],
    ids=lambda p: p.name,
)
def test_plists_round_trip_through_plistlib(path: Path) -> None:
    data = plistlib.loads(path.read_bytes())
    assert plistlib.loads(plistlib.dumps(data)) == data


def test_the_launch_agent_starts_the_app_in_the_user_session() -> None:
    agent = plistlib.loads((PACKAGING / "macos" / "org.sendguard.SendGuard.plist").read_bytes())
    assert agent["Label"] == PREFERENCE_DOMAIN
    assert agent["ProgramArguments"][-1] == "app"
    assert agent["RunAtLoad"] is True and agent["LimitLoadToSessionType"] == "Aqua"


def test_the_sample_profile_is_read_by_the_managed_preferences_reader() -> None:
    profile = plistlib.loads(
        (PACKAGING / "macos" / "org.sendguard.SendGuard.mobileconfig").read_bytes()
    )
    (payload,) = [p for p in profile["PayloadContent"] if p["PayloadType"] == PREFERENCE_DOMAIN]
    # What macOS writes to /Library/Managed Preferences: the payload's own keys.
    settings = {k: v for k, v in payload.items() if not k.startswith("Payload")}
    layer, error = managed_layer([ManagedValues(Path("/profile"), settings)], None)
    assert error is None and layer is not None
    assert layer.values[("ui", "allow_quit")] is False
    assert layer.values[("groups", "Editors' Desk", "clearance")] == "INTERNAL"


# --- Windows --------------------------------------------------------------------------------


def test_the_msi_is_per_machine_with_a_fixed_upgrade_code() -> None:
    wxs = ElementTree.parse(PACKAGING / "windows" / "SendGuard.wxs").getroot()
    package = wxs.find("w:Package", WIX_NS)
    assert package is not None
    assert package.get("Scope") == "perMachine"
    assert re.fullmatch(
        r"\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", package.get("UpgradeCode", "")
    )
    assert package.find("w:MajorUpgrade", WIX_NS) is not None
    prop = package.find(".//w:Shortcut/w:ShortcutProperty", WIX_NS)
    assert prop is not None
    assert (prop.get("Key"), prop.get("Value")) == ("System.AppUserModel.ID", "SendGuard.SendGuard")
    run_keys = [
        value
        for value in package.iter(f"{{{WIX_NS['w']}}}RegistryValue")
        if value.get("Key") == r"Software\Microsoft\Windows\CurrentVersion\Run"
    ]
    assert len(run_keys) == 1 and run_keys[0].get("Root") == "HKLM"
    assert package.find(".//w:StandardDirectory[@Id='CommonAppDataFolder']", WIX_NS) is not None
    policy = package.find(".//w:Component[@Id='SystemPolicy']", WIX_NS)
    assert policy is not None and policy.get("NeverOverwrite") == "yes"


def admx_policies() -> list[object]:
    root = ElementTree.parse(PACKAGING / "windows" / "admx" / "SendGuard.admx").getroot()
    return list(root.iterfind(".//p:policy", ADMX_NS))


@pytest.mark.parametrize("language", ["en-US", "zh-CN"])
def test_every_admx_string_and_presentation_is_in_the_adml(language: str) -> None:
    admx_text = (PACKAGING / "windows" / "admx" / "SendGuard.admx").read_text(encoding="utf-8")
    adml = ElementTree.parse(PACKAGING / "windows" / "admx" / language / "SendGuard.adml")
    strings = {e.get("id") for e in adml.getroot().iterfind(".//p:string", ADMX_NS)}
    presentations = {e.get("id") for e in adml.getroot().iterfind(".//p:presentation", ADMX_NS)}
    assert set(re.findall(r"\$\(string\.([^)]+)\)", admx_text)) <= strings
    assert set(re.findall(r"\$\(presentation\.([^)]+)\)", admx_text)) <= presentations
    for presentation in adml.getroot().iterfind(".//p:presentation", ADMX_NS):
        for control in presentation:
            assert control.get("refId", "").startswith(presentation.get("id", "?"))


def test_every_admx_setting_is_a_value_the_reader_accepts(tmp_path: Path) -> None:
    """What Group Policy writes for each setting — enabled, disabled, each list item — goes
    through the registry reader into a valid policy layer."""
    values: list[tuple[str, object, int]] = []
    for policy in admx_policies():
        assert policy.get("key") == REGISTRY_KEY  # type: ignore[attr-defined]
        value_name = policy.get("valueName")  # type: ignore[attr-defined]
        if value_name is not None:
            for state in ("p:enabledValue/p:decimal", "p:disabledValue/p:decimal"):
                decimal = policy.find(state, ADMX_NS)  # type: ignore[attr-defined]
                values.append((value_name, int(decimal.get("value")), REG_DWORD))
        for enum in policy.iterfind(".//p:enum", ADMX_NS):  # type: ignore[attr-defined]
            for item in enum.iterfind("p:item/p:value/p:string", ADMX_NS):
                values.append((enum.get("valueName"), item.text, REG_SZ))
        for text in policy.iterfind(".//p:multiText", ADMX_NS):  # type: ignore[attr-defined]
            sample = (
                ["[[groups]]", 'name = "Board"', 'folders = ["~/Board"]']
                if text.get("valueName") == "Policy"
                else ["Camera Uploads"]
            )
            values.append((text.get("valueName"), sample, REG_MULTI_SZ))
    assert len(values) > 20
    for value in values:
        managed = read_registry(_Registry([value]))
        assert managed is not None
        layer, error = managed_layer([managed], None)
        assert error is None, f"{value}: {error}"
        assert layer is not None and layer.values


class _Registry:
    def __init__(self, values: list[tuple[str, object, int]]) -> None:
        self._values = values

    def values(self, key: str) -> list[tuple[str, object, int]] | None:
        return self._values if key == REGISTRY_KEY else None


# --- scripts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    ["linux/postinst", "linux/postrm", "macos/build-pkg.sh", "macos/scripts/postinstall"],
)
def test_shell_scripts_parse(script: str) -> None:
    done = subprocess.run(
        ["sh", "-n", str(PACKAGING / script)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_purge_removes_the_policy_and_remove_keeps_it(tmp_path: Path) -> None:
    """postrm run on a copy of /etc/sendguard (the paths rewritten into tmp_path)."""
    etc = tmp_path / "etc" / "sendguard"
    script = (PACKAGING / "linux" / "postrm").read_text(encoding="utf-8")
    script = script.replace("/etc/sendguard", str(etc)).replace("/usr/share", str(tmp_path))
    postrm = tmp_path / "postrm"
    postrm.write_text(script, encoding="utf-8")
    etc.mkdir(parents=True)
    for name in ("policy.toml", "policy.toml.sig", "policy-signing.pub"):
        (etc / name).write_text("x")
    env = {"PATH": "/usr/bin:/bin"}
    subprocess.run(["sh", str(postrm), "remove"], check=True, env=env)
    assert (etc / "policy.toml").exists()
    subprocess.run(["sh", str(postrm), "purge"], check=True, env=env)
    assert not etc.exists()


def test_the_spec_and_the_deb_builder_are_valid_python() -> None:
    for path in (PACKAGING / "sendguard.spec", PACKAGING / "linux" / "build_deb.py"):
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_the_installers_icons_exist_in_every_size_and_are_referenced() -> None:
    """tools/make_icons.py draws them from the app's SVG; the MSI and the spec use them."""
    from PIL import Image

    with Image.open(PACKAGING / "icons" / "sendguard.ico") as ico:
        assert {(16, 16), (32, 32), (48, 48), (256, 256)} <= set(ico.info["sizes"])
    with Image.open(PACKAGING / "icons" / "sendguard.icns") as icns:
        assert icns.size == (1024, 1024)
    wxs = ElementTree.parse(PACKAGING / "windows" / "SendGuard.wxs").getroot()
    icon = wxs.find(".//w:Icon", WIX_NS)
    assert icon is not None and icon.get("SourceFile", "").endswith("sendguard.ico")
    shortcut = wxs.find(".//w:Shortcut", WIX_NS)
    assert shortcut is not None and shortcut.get("Icon") == icon.get("Id")
    spec = (PACKAGING / "sendguard.spec").read_text(encoding="utf-8")
    assert '"sendguard.ico"' in spec and '"sendguard.icns"' in spec
