"""Re-record tests/data/observations/quickstart.json: the silent run of the quickstart example's
recorded flow against its site, as app.core.draft.observe sees it (run from the repository root:
``python tests/data/observations/record_observations.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.core.bundle import _site_folder_files
from app.core.draft.drafting import import_codegen, rebase_local_urls
from app.core.draft.observe import observe_flow
from app.core.script import Settings

ROOT = Path(__file__).resolve().parents[3]
SITE = ROOT / "resources" / "examples" / "quickstart" / "site"
FLOW = ROOT / "resources" / "examples" / "quickstart" / "recorded-flow.spec.ts"


def main() -> None:
    settings = Settings(site="site")
    actions = rebase_local_urls(import_codegen(FLOW).actions, settings)
    seen = asyncio.run(observe_flow(actions, settings, site_files=_site_folder_files(SITE, SITE)[0]))
    # the loopback port differs per run: keep paths only, so the file is stable
    data = seen.model_copy(update={"seconds": 0.0}).model_dump(mode="json")
    for o in data["observations"]:
        for state in (o["before"], o["after"]):
            if state is not None and state["url"].startswith("http"):
                state["url"] = "/" + state["url"].split("/", 3)[-1]
    import json

    out = Path(__file__).with_name("quickstart.json")
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}: {len(seen.observations)} of {seen.actions} steps")


if __name__ == "__main__":
    main()
