"""A broken policy guards more, never less: the real engine, real files, real watchdog.

The policy files are real files edited as an admin would; the engine reads them again the
way the app and ``run --headless`` do (``PolicyReloader`` → ``Engine.set_policy``).
"""

from __future__ import annotations

from pathlib import Path

from sendguard.engine.decider import ScriptedDecider
from sendguard.engine.guard import Engine, EngineConfig, run_until
from sendguard.policy import Policy, load_policy
from sendguard.policy.last_good import LAST_GOOD_DIR
from sendguard.policy.watch import PolicyReloader
from tests.engine.conftest import CLEAN, TLP_RED, Recorder

GOOD = """\
[[groups]]
name = "Family"
folders = ["{root}/Family"]
clearance = "PUBLIC"

[[groups]]
name = "Work"
folders = ["{root}/Work"]
clearance = "SECRET"

[discovery]
enabled = false
"""
#: The admin's typo of the issue: the closing bracket of Family's folders is missing.
SYNTAX_ERROR_ON_FOLDERS = GOOD.replace('/Family"]', '/Family"')
#: Valid TOML, invalid policy: a clearance without quotes... is a TOML error too; this is a
#: clearance no ladder has, so the file parses and fails validation.
UNKNOWN_LEVEL = GOOD.replace('clearance = "PUBLIC"', 'clearance = "PUBLC"')


class Setup:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.policy_file = root / "policy.toml"
        self.data_dir = root / "data"
        (root / "Family").mkdir()
        (root / "Work").mkdir()

    @property
    def family(self) -> Path:
        return self.root / "Family"

    @property
    def work(self) -> Path:
        return self.root / "Work"

    def load(self) -> Policy:
        return load_policy(
            self.policy_file,
            self.root / "no-settings.toml",
            system_required=True,
            home=self.root,
            data_dir=self.data_dir,
            last_good=self.data_dir / LAST_GOOD_DIR,
        )

    def engine(self, policy: Policy) -> tuple[Engine, Recorder]:
        recorder = Recorder()
        config = EngineConfig(data_dir=self.data_dir, batch_window=0.2)
        return Engine(policy, config, ScriptedDecider(lambda batch: None), recorder), recorder


def held_names(engine: Engine) -> set[str]:
    return {record.origin.name for record in engine.held_files()}


def test_a_syntax_error_on_the_folders_line_holds_labelled_and_clean_files(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.policy_file.write_text(SYNTAX_ERROR_ON_FOLDERS.format(root=tmp_path))
    policy = setup.load()
    assert policy.error is not None and policy.hold_everything
    assert "Unclosed array" in str(policy.error) and "line 4" in str(policy.error)
    assert "the list opened on line 3 is not closed" in str(policy.error)
    engine, _ = setup.engine(policy)
    with engine:
        (setup.family / "plan.txt").write_bytes(TLP_RED)
        (setup.family / "list.txt").write_bytes(CLEAN)
        (setup.work / "notes.txt").write_bytes(CLEAN)
        assert run_until(lambda: len(engine.held_files()) == 3, 10), held_names(engine)
        assert not any(setup.family.iterdir()) and not any(setup.work.iterdir())
        assert held_names(engine) == {"plan.txt", "list.txt", "notes.txt"}


def test_a_policy_broken_while_running_keeps_guarding_with_the_last_good_one(
    tmp_path: Path,
) -> None:
    setup = Setup(tmp_path)
    setup.policy_file.write_text(GOOD.format(root=tmp_path))
    policy = setup.load()
    assert policy.error is None
    assert (setup.data_dir / LAST_GOOD_DIR / "policy.toml").read_text() == GOOD.format(
        root=tmp_path
    )
    reloader = PolicyReloader(policy, setup.load)
    engine, _ = setup.engine(policy)
    with engine:
        # Broken by an edit, and Work's entry gone with it: Work's folder is no longer named,
        # so only the last good policy guards it — a labelled file is held, a clean one passes.
        broken = UNKNOWN_LEVEL.format(root=tmp_path).split('[[groups]]\nname = "Work"')[0]
        setup.policy_file.write_text(broken + "\n[discovery]\nenabled = false\n")
        changed = reloader.poll()
        assert changed is not None and changed.error is not None
        assert not changed.hold_everything and changed.last_good
        assert "PUBLC" in str(changed.error)
        engine.set_policy(changed)
        family, work = changed.group("Family"), changed.group("Work")
        assert family is not None and family.hold_all  # the broken text still names it
        assert work is not None and not work.hold_all and work.clearance.name == "SECRET"

        (setup.family / "list.txt").write_bytes(CLEAN)  # held: Family's folder is named
        (setup.work / "plan.txt").write_bytes(b"TOP SECRET\nThe plan.\n")  # above SECRET
        (setup.work / "notes.txt").write_bytes(CLEAN)  # Work keeps its last good rules
        assert run_until(lambda: held_names(engine) == {"list.txt", "plan.txt"}, 10), held_names(
            engine
        )
        assert run_until(lambda: (setup.work / "notes.txt").exists(), 5)
        assert (setup.work / "notes.txt").read_bytes() == CLEAN

        # Fixed again: guarded as it says, with nothing held for being clean.
        setup.policy_file.write_text(GOOD.format(root=tmp_path) + "\n# fixed\n")
        fixed = reloader.poll()
        assert fixed is not None and fixed.error is None
        engine.set_policy(fixed)
        (setup.family / "again.txt").write_bytes(CLEAN)
        assert run_until(lambda: "again.txt" not in held_names(engine), 5)
        # Quiet means: it stays, and stays unheld past a settle.
        assert not run_until(lambda: "again.txt" in held_names(engine), 1.5)
        assert (setup.family / "again.txt").read_bytes() == CLEAN


def test_a_restart_with_the_broken_file_guards_from_the_kept_copy(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.policy_file.write_text(GOOD.format(root=tmp_path))
    assert setup.load().error is None  # keeps the copy
    # Broken while SendGuard was off, Work's folder no longer written anywhere in it.
    setup.policy_file.write_text(f'[[groups]]\nname = "Family"\nfolders = ["{tmp_path}/Family",\n')
    policy = setup.load()
    assert policy.error is not None and not policy.hold_everything
    (kept,) = policy.last_good
    assert kept.path == setup.policy_file and kept.copy.is_file()
    work, family = policy.group("Work"), policy.group("Family")
    assert work is not None and not work.hold_all
    assert family is not None and family.hold_all
    engine, _ = setup.engine(policy)
    with engine:
        (setup.work / "plan.txt").write_bytes(b"TOP SECRET\nThe plan.\n")
        (setup.work / "notes.txt").write_bytes(CLEAN)
        (setup.family / "list.txt").write_bytes(CLEAN)
        assert run_until(lambda: held_names(engine) == {"plan.txt", "list.txt"}, 10), held_names(
            engine
        )
        # Written together, the three may be held as a burst and read after: a clean one
        # is then put back where it was.
        assert run_until(lambda: (setup.work / "notes.txt").exists(), 10)
        assert (setup.work / "notes.txt").read_bytes() == CLEAN


def test_a_kept_copy_that_was_altered_is_not_used(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    setup.policy_file.write_text(GOOD.format(root=tmp_path))
    assert setup.load().error is None
    copy = setup.data_dir / LAST_GOOD_DIR / "policy.toml"
    copy.write_text(copy.read_text().replace('"PUBLIC"', '"TOP SECRET"'))  # loosened
    setup.policy_file.write_text(SYNTAX_ERROR_ON_FOLDERS.format(root=tmp_path))
    policy = setup.load()
    assert policy.hold_everything and not policy.last_good


def test_broken_user_settings_hold_in_the_folders_they_name(tmp_path: Path) -> None:
    setup = Setup(tmp_path)
    settings = tmp_path / "settings.toml"
    settings.write_text(
        f'[[groups]]\nname = "Club"\nfolders = ["{tmp_path}/Club"\nclearance = "PUBLIC"\n'
        "[discovery]\nenabled = false\n"
    )
    (tmp_path / "Club").mkdir()
    policy = load_policy(
        tmp_path / "no-policy.toml",
        settings,
        home=tmp_path,
        data_dir=setup.data_dir,
        last_good=setup.data_dir / LAST_GOOD_DIR,
    )
    assert policy.error is not None and policy.hold_everything
    assert str(settings) in str(policy.error)
    club = policy.group("Club")
    assert club is not None and club.folders == (tmp_path / "Club",)
    assert club.source.kind == "user" and club.source.line == 3
    engine, _ = setup.engine(policy)
    with engine:
        (tmp_path / "Club" / "list.txt").write_bytes(CLEAN)
        assert run_until(lambda: held_names(engine) == {"list.txt"}, 10)


def test_a_missing_group_folder_is_named_not_made_and_watched_once_it_exists(
    tmp_path: Path,
) -> None:
    setup = Setup(tmp_path)
    setup.policy_file.write_text(GOOD.format(root=tmp_path).replace("/Work", "/Wrok"))
    policy = setup.load()
    engine, _ = setup.engine(policy)
    with engine:
        (message,) = engine.missing.values()
        assert str(tmp_path / "Wrok") in message
        assert f"{setup.policy_file}, line 8" in message.replace("~", str(Path.home()))
        assert "Fix:" in message
        assert not (tmp_path / "Wrok").exists()  # never made: no sync client would see it
        # The sync client makes it (the admin's path was right after all): watched from then on.
        (tmp_path / "Wrok").mkdir()
        assert run_until(lambda: not engine.missing, 5)
        (tmp_path / "Wrok" / "plan.txt").write_bytes(b"TOP SECRET\nThe plan.\n")
        assert run_until(lambda: held_names(engine) == {"plan.txt"}, 10)


def test_user_settings_broken_after_a_valid_start_are_replaced_by_their_kept_copy(
    tmp_path: Path,
) -> None:
    setup = Setup(tmp_path)
    settings = tmp_path / "settings.toml"
    valid = GOOD.format(root=tmp_path)
    settings.write_text(valid)

    def load() -> Policy:
        return load_policy(
            tmp_path / "no-policy.toml",
            settings,
            home=tmp_path,
            data_dir=setup.data_dir,
            last_good=setup.data_dir / LAST_GOOD_DIR,
        )

    reloader = PolicyReloader(load(), load)
    settings.write_text(valid.replace('clearance = "SECRET"', "clearance = SECRET"))
    broken = reloader.poll()
    assert broken is not None and broken.error is not None
    assert str(settings) in str(broken.error)
    assert [(k.role, k.path) for k in broken.last_good] == [("user", settings)]
    engine, _ = setup.engine(broken)
    with engine:
        # Both folders are still named by the broken text: everything new there is held.
        (setup.work / "notes.txt").write_bytes(CLEAN)
        assert run_until(lambda: held_names(engine) == {"notes.txt"}, 10)
