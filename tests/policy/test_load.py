"""Reading one policy file: the minimal policy, the example, and errors that say how to fix."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from sendguard.policy import BUILT_IN, DEFAULT_LEVELS, PolicyError, Source, read_layer
from sendguard.policy.load import locate_keys, parse_layer
from tests.policy import MINIMAL, load, write

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "policy.example.toml"
SYSTEM = Source("system", Path("/etc/sendguard/policy.toml"))


def _error(tmp_path: Path, text: str) -> PolicyError:
    path = write(tmp_path / "policy.toml", text)
    with pytest.raises(PolicyError) as caught:
        read_layer(path, Source("system", path))
    return caught.value


def test_minimal_policy_is_a_list_of_groups_and_everything_else_defaults(tmp_path: Path) -> None:
    policy = load(tmp_path, MINIMAL)
    assert policy.error is None
    assert [level.name for level in policy.levels] == list(DEFAULT_LEVELS)
    family = policy.group("Family")
    assert family is not None
    assert family.clearance.name == "PUBLIC"
    assert family.folders == (tmp_path / "home" / "Dropbox" / "Family",)
    assert policy.unscannable.name == "CONFIDENTIAL"
    assert policy.unknown_mip_label.name == "CONFIDENTIAL"
    assert policy.unmapped.name == "CONFIDENTIAL"
    assert [a.value for a in policy.actions] == [
        "confirm",
        "type-group-name",
        "justify",
        "justify",
    ]
    assert policy.ui.allow_pause and policy.ui.allow_quit
    assert policy.source_of("levels.unscannable") == BUILT_IN
    assert str(policy.source_of("groups.Family.clearance")).startswith("system policy ")


def test_the_example_policy_is_valid_and_sets_every_key(tmp_path: Path) -> None:
    layer = read_layer(EXAMPLE, SYSTEM)
    keys = {key[:2] for key in layer.values} | {
        ("groups", key[2]) for key in layer.values if key[0] == "groups"
    }
    expected = {
        ("levels", "order"),
        ("levels", "unscannable"),
        ("levels", "unknown_mip_label"),
        ("levels", "unmapped"),
        *(("mappings", t) for t in ("mip", "titus", "boldon_james", "properties", "markings")),
        ("mappings", "patterns"),
        ("ui", "allow_pause"),
        ("ui", "allow_quit"),
        *(("discovery", k) for k in ("enabled", "default_clearance", "roots", "exclude")),
        *(("groups", k) for k in ("name", "folders", "clearance", "outbox", "members")),
        ("groups", "external"),
        ("groups", "colour"),
        ("groups", "sources"),
        ("groups", "forwarding"),
        ("ocr", "enabled"),
        ("ocr", "required"),
    }
    assert expected <= keys
    assert any(key[0] == "actions" for key in layer.values)
    systems = {key[2] for key in layer.values if key[:2] == ("mappings", "markings")}
    assert systems == {"tlp", "uk", "us", "nato", "cn", "corporate", "classification", "any"}
    policy = load(tmp_path, EXAMPLE.read_text(encoding="utf-8"))
    assert policy.error is None


def test_the_built_in_policy_is_a_valid_policy_file() -> None:
    from sendguard.policy import BUILT_IN_POLICY

    layer = parse_layer(BUILT_IN_POLICY, Path("<built-in>"), BUILT_IN)
    assert layer.values[("levels", "unscannable")] == "CONFIDENTIAL"


def test_error_message_names_file_line_key_expected_got_and_fix(tmp_path: Path) -> None:
    error = _error(tmp_path, MINIMAL.replace('"PUBLIC"', '"SECRTE"'))
    path = tmp_path / "policy.toml"
    assert (error.path, error.line, error.key) == (path, 4, "groups[0].clearance")
    assert str(error) == (
        f"{path}, line 4, groups[0].clearance: expected one of PUBLIC, INTERNAL, CONFIDENTIAL,"
        ' SECRET, TOP SECRET; got "SECRTE". Fix: did you mean "SECRET"?'
    )


@pytest.mark.parametrize(
    ("text", "line", "key", "expected", "hint"),
    [
        pytest.param(
            '[grups]\nname = "x"\n', 1, "grups", "one of levels, mappings", '"groups"', id="top-key"
        ),
        pytest.param(
            'levels = ["A", "B"]\n', 1, "levels", "a table", "[levels]", id="levels-not-table"
        ),
        pytest.param(
            '[levels]\norder = ["A", "B", "a"]\n', 2, "levels.order[2]", "each level once",
            "remove", id="duplicate-level",
        ),
        pytest.param(
            '[levels]\nunscannable = "CONFIDENTAL"\n', 2, "levels.unscannable", "one of PUBLIC",
            '"CONFIDENTIAL"', id="level-typo",
        ),
        pytest.param(
            '[levels]\norder = ["LOW", "HIGH"]\nunmapped = "SECRET"\n', 3, "levels.unmapped",
            "one of LOW, HIGH", "[levels] order", id="level-not-in-custom-ladder",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nclearance = "PUBLIC"\n', 1, "groups[0]", "folders = [",
            'folders = ["~/Dropbox/Family"]', id="missing-folders",
        ),
        pytest.param(
            '[[groups]]\nfolders = ["~/A"]\n', 1, "groups[0]", "a name", 'name = "Family"',
            id="missing-name",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nfolders = ["Dropbox/A"]\n', 3, "groups[0].folders[0]",
            "absolute folder path", '"~/Dropbox/A"', id="relative-folder",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nfolders = ["~bob/A"]\n', 3, "groups[0].folders[0]",
            "absolute folder path", "full path", id="other-users-home",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nfolders = []\n', 3, "groups[0].folders",
            "at least one entry", "~/Dropbox", id="no-folders",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nfolders = ["~/A"]\n\n[[groups]]\nname = "a"\n'
            'folders = ["~/B"]\n', 6, "groups[1].name", "no other group", "rename",
            id="duplicate-group",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nfolders = ["~/A"]\n\n[[groups]]\nname = "B"\n'
            'folders = ["~/A/"]\n', 7, "groups[1].folders[0]", "one group only", "remove",
            id="folder-in-two-groups",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nfolders = ["~/A"]\noutbox = "~/A/out"\n', 4,
            "groups[0].outbox", "outside the group's folders", "not inside", id="outbox-inside",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nfolders = ["~/A"]\nmembers = -1\n', 4, "groups[0].members",
            "a whole number", "members = 12", id="members",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nfolders = ["~/A"]\ncolour = "green"\n', 4,
            "groups[0].colour", "#rrggbb", "#2e7d32", id="colour",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nfolders = ["~/A"]\ncolor = "#fff"\n', 4, "groups[0].color",
            "one of name, folders", '"colour"', id="unknown-group-key",
        ),
        pytest.param(
            '[groups]\nname = "A"\n', 1, "groups", "a list of groups", "[[groups]]",
            id="groups-single-brackets",
        ),
        pytest.param(
            '[actions]\nabove_1 = "type_group_name"\n', 2, "actions.above_1", "one of notify",
            '"type-group-name"', id="action-name",
        ),
        pytest.param(
            '[actions]\nabove_1 = "justify"\nabove_2 = "confirm"\n', 3, "actions.above_2",
            "at least as strict as above_1", "raise above_2", id="milder-further-up",
        ),
        pytest.param(
            '[actions]\nabove_5 = "block"\n', 2, "actions.above_5", "above_1 … above_4",
            "above_4", id="beyond-the-ladder",
        ),
        pytest.param(
            '[actions]\nabove1 = "block"\n', 2, "actions.above1", "above_1, above_2",
            "above_1", id="action-key",
        ),
        pytest.param(
            '[ui]\nallow_quit = "no"\n', 2, "ui.allow_quit", "true or false", "without quotes",
            id="boolean",
        ),
        pytest.param(
            '[mappings.markings.tlpp]\n"TLP:RED" = "SECRET"\n', 1, "mappings.markings.tlpp",
            "one of tlp, uk, us, nato, cn, corporate, classification, any", '"tlp"',
            id="marking-system",
        ),
        pytest.param(
            "[mappings.patterns]\n'[ORCHID' = \"SECRET\"\n", 2, 'mappings.patterns."[ORCHID"',
            "a regular expression", "single quotes", id="bad-regex",
        ),
        pytest.param(
            '[mappings.mip]\n"87867195-f2b8-4ac2-b0b6-6bb73cb33afc" = 3\n', 2,
            'mappings.mip.87867195-f2b8-4ac2-b0b6-6bb73cb33afc', "a level name", "TOP SECRET",
            id="mapping-not-a-string",
        ),
        pytest.param(
            '[discovery]\nroots = "~/Sync"\n', 2, "discovery.roots", "a list of strings",
            '["~/Dropbox/Team"]', id="roots-not-a-list",
        ),
        pytest.param(
            '[[groups]]\nname = "A"\nfolders = ["~/A"\n', 3, None, "valid TOML", "quotes",
            id="toml-syntax",
        ),
    ],
)  # fmt: skip
def test_every_validation_error_names_file_line_and_key(
    tmp_path: Path, text: str, line: int, key: str | None, expected: str, hint: str
) -> None:
    error = _error(tmp_path, text)
    assert error.path == tmp_path / "policy.toml"
    assert error.line == line, str(error)
    assert error.key == key, str(error)
    assert expected in error.expected, str(error)
    assert error.hint is not None and hint in error.hint, str(error)
    message = str(error)
    assert message.startswith(f"{tmp_path / 'policy.toml'}, line {line}")
    assert "Fix: " in message


def test_all_errors_in_a_file_are_reported_in_file_order(tmp_path: Path) -> None:
    error = _error(
        tmp_path,
        '[levels]\nunscannable = "X"\n\n[[groups]]\nname = "A"\nfolders = ["~/A"]\n'
        'clearance = "Y"\nexternal = "yes"\n',
    )
    assert [e.key for e in error.all()] == [
        "levels.unscannable",
        "groups[0].clearance",
        "groups[0].external",
    ]
    assert [e.line for e in error.all()] == [2, 7, 8]


def test_levels_match_without_regard_to_case_and_keep_their_spelling(tmp_path: Path) -> None:
    policy = load(tmp_path, MINIMAL.replace('"PUBLIC"', '"public"'))
    family = policy.group("family")
    assert family is not None and family.clearance.name == "PUBLIC"


def test_custom_ladder_is_used_for_references(tmp_path: Path) -> None:
    policy = load(
        tmp_path,
        '[levels]\norder = ["OPEN", "RESTRICTED", "STRICTLY CONFIDENTIAL"]\n'
        'unscannable = "restricted"\n\n' + MINIMAL.replace('"PUBLIC"', '"OPEN"'),
    )
    assert policy.error is None
    assert [level.name for level in policy.levels] == [
        "OPEN",
        "RESTRICTED",
        "STRICTLY CONFIDENTIAL",
    ]
    assert policy.unscannable.name == "RESTRICTED"


def test_mapping_keys_are_normalised(tmp_path: Path) -> None:
    policy = load(
        tmp_path,
        '[mappings.mip]\n"{87867195-F2B8-4AC2-B0B6-6BB73CB33AFC}" = "SECRET"\n'
        '"Very  Secret" = "TOP SECRET"\n\n[mappings.properties]\n"Classification = Restricted"'
        ' = "SECRET"\n\n[mappings.markings.tlp]\n"tlp:red" = "TOP SECRET"\n',
    )
    assert policy.error is None
    mip = policy.mappings.mip
    assert mip["87867195-f2b8-4ac2-b0b6-6bb73cb33afc"].name == "SECRET"
    assert mip["VERY SECRET"].name == "TOP SECRET"
    assert policy.mappings.properties["CLASSIFICATION=RESTRICTED"].name == "SECRET"
    assert policy.mappings.markings["tlp"]["TLP:RED"].name == "TOP SECRET"
    assert policy.is_locked('mappings.markings.tlp."TLP:RED"')


def test_unreadable_folder_and_non_utf8_files_are_errors(tmp_path: Path) -> None:
    folder = tmp_path / "policy.toml"
    folder.mkdir()
    with pytest.raises(PolicyError, match="expected a TOML file; got a folder"):
        read_layer(folder, SYSTEM)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b'[levels]\nunmapped = "\xff"\n')
    with pytest.raises(PolicyError) as caught:
        read_layer(binary, SYSTEM)
    assert caught.value.line == 2 and "UTF-8" in str(caught.value)


def _error_without_privileges(path: Path) -> str:
    """read_layer's message in a forked child that is not root (root reads any file)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, try, report, leave without pytest's teardown
        try:
            os.close(reader)
            if os.geteuid() == 0:
                os.setgid(65534)
                os.setuid(65534)
            try:
                read_layer(path, SYSTEM)
                message = "no error"
            except PolicyError as exc:
                message = str(exc)
            os.write(writer, message.encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(pid, 0)
    return message


def test_unreadable_file_is_an_error_with_a_fix(tmp_path: Path) -> None:
    path = write(tmp_path / "policy.toml", MINIMAL)
    path.chmod(0)
    try:
        message = _error_without_privileges(path)
    finally:
        path.chmod(0o644)
    assert re.search(r"expected a readable TOML file.*chmod 644", message, re.S), message


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_layer(tmp_path / "none.toml", SYSTEM)


def test_locate_keys_follows_tables_arrays_quotes_and_multiline_values() -> None:
    text = (
        "# comment\n"
        "[levels]\n"
        'order = [\n  "A",\n  "B = C",\n]\n'
        'note = """\nfake = 1\n"""\n'
        "[[groups]]\n"
        'name = "x"\n'
        "[[groups]]\n"
        "a.'b c'.\"d\\u0065\" = 1\n"
        '[mappings.markings."tlp"]\n'
        '"TLP:RED" = "SECRET"\n'
    )
    positions = locate_keys(text)
    assert positions[("levels",)] == 2
    assert positions[("levels", "order")] == 3
    assert ("fake",) not in positions and ("levels", "fake") not in positions
    assert ("levels", "B = C") not in positions
    assert positions[("groups", 0)] == 10
    assert positions[("groups", 0, "name")] == 11
    assert positions[("groups", 1)] == 12
    assert positions[("groups", 1, "a", "b c", "de")] == 13
    assert positions[("mappings", "markings", "tlp", "TLP:RED")] == 15


def test_the_docs_list_the_built_in_policy_as_it_is() -> None:
    from sendguard.policy import BUILT_IN_POLICY

    docs = Path(__file__).resolve().parents[2] / "docs" / "policy.md"
    assert f"```toml\n{BUILT_IN_POLICY}```" in docs.read_text(encoding="utf-8")
