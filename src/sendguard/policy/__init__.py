"""The policy: TOML files → a validated, layered Policy, and decisions for files and groups.

Pure: no Qt. The only I/O is reading policy files and listing sync roots for discovery.

    policy = load_policy()                     # built-in < user settings < system policy
    group = policy.group_for(path)             # which group a folder belongs to
    decision = decide(detect(path, name_patterns=policy.name_patterns), group, policy)

See docs/policy.md for the file format and the rules.
"""

from sendguard.policy.decide import Decision, LabelLevel, LevelResult, decide, label_level, level_of
from sendguard.policy.discovery import KNOWN_ROOTS, SyncRoot, discover_groups, find_sync_roots
from sendguard.policy.errors import PolicyError
from sendguard.policy.layers import (
    BUILT_IN_POLICY,
    built_in_layer,
    canonical_form,
    load_policy,
    system_policy_path,
    user_settings_path,
)
from sendguard.policy.load import Layer, parse_layer, read_layer
from sendguard.policy.model import (
    BUILT_IN,
    DEFAULT_LEVELS,
    Action,
    Discovery,
    Group,
    Level,
    Mappings,
    Policy,
    Setting,
    Source,
    SourceFile,
    UiPermissions,
    key_path,
)

__all__ = [
    "BUILT_IN",
    "BUILT_IN_POLICY",
    "DEFAULT_LEVELS",
    "KNOWN_ROOTS",
    "Action",
    "Decision",
    "Discovery",
    "Group",
    "LabelLevel",
    "Layer",
    "Level",
    "LevelResult",
    "Mappings",
    "Policy",
    "PolicyError",
    "Setting",
    "Source",
    "SourceFile",
    "SyncRoot",
    "UiPermissions",
    "built_in_layer",
    "canonical_form",
    "decide",
    "discover_groups",
    "find_sync_roots",
    "key_path",
    "label_level",
    "level_of",
    "load_policy",
    "parse_layer",
    "read_layer",
    "system_policy_path",
    "user_settings_path",
]
