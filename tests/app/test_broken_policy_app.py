"""The app when its policy breaks while running, or names a folder that is not there: the
real controller, engine, watchdog and audit trail on real files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sendguard.app.controller import TrayState
from tests.app.conftest import POLICY, AppWorld

TLP_RED = b"TLP:RED\nThe plan for next quarter.\n"
CLEAN = b"Shopping list\nmilk\nbread\n"


def audit_events(world: AppWorld, event: str) -> list[dict[str, Any]]:
    trail = world.controller.trail
    assert trail is not None
    return [r.fields for r in trail.store.records() if r.fields.get("event") == event]


def test_a_policy_broken_while_running_needs_attention_and_holds_more(
    make_app: Callable[..., AppWorld],
) -> None:
    world = make_app()
    world.wait(lambda: world.controller.engine is not None)
    assert world.controller.state is not TrayState.ATTENTION
    policy_file = world.root / "policy.toml"
    # The typo: quotes missing around a level.
    text = policy_file.read_text().replace('clearance = "PUBLIC"', "clearance = PUBLIC")
    policy_file.write_text(text)
    line = text.splitlines().index("clearance = PUBLIC") + 1
    # The app polls the files every two seconds; this is the same call, made at once.
    world.wait(lambda: world.controller.reload_policy() or world.controller.policy.error)
    controller = world.controller
    assert controller.state is TrayState.ATTENTION
    status = controller.status_line()
    assert status.startswith("Needs attention: The policy cannot be used:")
    assert f"{policy_file}, line {line}" in status
    assert "the last valid policy guards" in status
    assert str(world.family) in status and str(world.editors) in status
    # Every new file in the folders the broken text names is held, clean ones too.
    (world.family / "list.txt").write_bytes(CLEAN)
    world.wait(lambda: any(e.record.origin.name == "list.txt" for e in controller.held.values()))
    assert not (world.family / "list.txt").exists()
    (record,) = audit_events(world, "policy.loaded")[-1:]
    assert "clearance" in record["reason"] and record["hold_everything"] is False
    assert record["last_good"][0]["path"] == str(policy_file)
    assert sorted(record["held_folders"]) == sorted([str(world.editors), str(world.family)])

    # Fixed: the attention state ends, and guarding is as the policy says.
    policy_file.write_text(POLICY.format(root=world.root, allow_pause="true"))
    world.wait(lambda: world.controller.reload_policy() or world.controller.policy.error is None)
    assert controller.policy.error is None
    assert controller.state is not TrayState.ATTENTION


def test_a_mistyped_group_folder_needs_attention_naming_it_and_its_line(
    make_app: Callable[..., AppWorld],
) -> None:
    policy = POLICY.replace("{root}/groups/family", "{root}/groups/famliy")
    world = make_app(policy=policy)
    world.wait(lambda: world.controller.engine is not None)
    controller = world.controller
    assert controller.state is TrayState.ATTENTION
    missing = world.root / "groups" / "famliy"
    (reason,) = controller.attention
    assert f'The folder of the group "Family" does not exist: {missing}' in reason
    line = policy.splitlines().index('folders = ["{root}/groups/famliy"]') + 1
    assert f"policy.toml, line {line}" in reason
    assert not missing.exists()


def test_the_tray_menu_says_the_whole_error_on_lines_of_its_width(
    make_app: Callable[..., AppWorld],
) -> None:
    world = make_app(tray=True)
    world.wait(lambda: world.controller.engine is not None)
    policy_file = world.root / "policy.toml"
    policy_file.write_text(policy_file.read_text().replace('"PUBLIC"', "PUBLIC"))
    world.wait(lambda: world.controller.reload_policy() or world.controller.policy.error)
    world.shell.rebuild_menu()
    status = [a for a in world.shell.menu_actions() if not a.isEnabled() and a.text()]
    assert len(status) > 1  # wrapped, not cut
    width = world.shell.menu.fontMetrics()
    assert all(width.horizontalAdvance(a.text()) <= 480 for a in status)
    said = " ".join(a.text() for a in status)
    assert "policy.toml, line" in said and "Fix:" in said and "expected valid TOML" in said
