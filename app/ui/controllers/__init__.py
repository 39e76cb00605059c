"""Controllers: each owns one concern of the main window (projects and autosave, renders and checks, the
cloud session, backups) and starts its long work through :class:`~app.ui.ops.Op`.  The window builds
the widgets and menus and connects them to these; no controller touches another's state."""
