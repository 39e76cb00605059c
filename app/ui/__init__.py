"""The desktop app (PySide6 + qasync).  The only package that imports Qt — through :mod:`app.ui.qt`.

It adds no pipeline logic: every long operation is a core coroutine started through
:class:`app.ui.ops.Op`.  Modules: ``storage`` (library, projects, settings; no Qt), ``library_models`` and
``document`` (item models, undoable script edits), ``services`` (core calls as op factories), the panels
(``library_panel``, ``project_panel``, ``card_editor``, ``render_panel``), ``main_window`` and ``app``
(start-up, theme, ``--smoke-screenshot``).
"""
