"""The desktop app: tray, the dialog that names the group, and the windows around them.

The only Qt code in SendGuard. It adapts the engine's callbacks to Qt signals (`bridge`),
owns the engine's life cycle (`controller`), and shows what the engine holds.
"""
