"""Open a job bundle (``.reelwright.zip`` or a bundle folder) or a script file as a project — what the
desktop app does with a file the file manager hands it (the MIME type the installers register).

The project gets the job's script and, in its own folder, every asset the script names (the site, uploads,
music), so it renders like the bundle did.  Errors are the core's typed ones (``ScriptError`` naming the
file and field); nothing is created when the bundle is rejected.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from app.core.bundle import load_job, referenced_assets
from app.workbench.storage import Project, ProjectData, Store

log = logging.getLogger(__name__)

BUNDLE_SUFFIX = ".reelwright.zip"


def project_name_for(path: Path) -> str:
    name = path.name
    for suffix in (BUNDLE_SUFFIX, ".zip", ".json"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return name


def import_job(store: Store, path: Path) -> Project:
    """Validate the job at ``path`` and make a project of it; returns the project."""
    with load_job(path) as job:
        rels = list(job.assets) if not job.loose else referenced_assets(job.script, job.root)
        sources = {rel: job.resolve(rel) for rel in rels}  # resolves (and so checks) every path first
        script = job.script.model_dump(mode="json", by_alias=True, exclude_unset=True)
        project = store.create_project(project_name_for(path), ProjectData(script=script))
        dest = store.project_dir(project.id)
        try:
            for rel, src in sources.items():
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, target)
        except OSError:
            store.delete_project(project.id)
            raise
    log.info("opened %s as project %d '%s' (%d assets)", path, project.id, project.name, len(sources))
    return project
