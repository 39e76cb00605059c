"""The narration rubric: it catches code, selectors, addresses and identifiers in narration, and cards
that do not say what the viewer sees change; offline drafts pass it with and without observations
(here without a browser: hand-made observations, and the fallback for every corpus flow)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from app.core.draft.drafters.base import DraftInput, FlowSource
from app.core.draft.drafters.offline import offline_draft
from app.core.draft.drafting import DrafterConfig, draft, import_codegen, rebase_local_urls
from app.core.draft.importers import CODEGEN_KINDS, detect_kind
from app.core.draft.observe import Change, FlowObservation, Observation, PageState, Target
from app.core.draft.rubric import check_narration
from app.core.script import Settings, validate_script

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "data" / "codegen"
SITE_DIR = ROOT / "resources" / "examples" / "quickstart" / "site"
PROMPTS = ["", "a short friendly tour", "a detailed walkthrough for developers", "formal, for executives"]


def _script(narrations: list[str], actions: list[list[dict[str, Any]]]) -> Any:
    return validate_script({
        "version": 1, "title": "t", "settings": {"base_url": "https://app.example.com"},
        "cards": [{"id": f"c{i}", "title": "T", "narration": n, "actions": a}
                  for i, (n, a) in enumerate(zip(narrations, actions, strict=True))],
    })


CLICK_CTA = {"type": "click", "target": {"test_id": "hero-cta"}}
CLICK_TASK = {"type": "click", "target": {"css": "li.task"}}


@pytest.mark.parametrize(("narration", "rule", "found"), [
    ("Click getByRole('button').", "selector", "getByRole("),
    ("Then page.get_by_test_id('x') is clicked.", "selector", "get_by_test_id("),
    ("Click the #project-title heading.", "css", "#project-title"),
    ("Pick any li.task you like.", "css", "li.task"),
    ("Open [data-testid=board] now.", "css", "[data-testid=board]"),
    ("Click hero-cta to start.", "test_id", "hero-cta"),
    ("Open /dashboard.html to start.", "url", "/dashboard.html"),
    ("Go to https://app.example.com/x first.", "url", "https://app.example.com/x"),
    ("Type into localhost:8000 now.", "url", "localhost:8000"),
    ("Then signin.html opens.", "url", "signin.html"),
    ("Fill the newTask box.", "identifier", "newTask"),
    ("Fill the project_grid box.", "identifier", "project_grid"),
])
def test_rubric_catches_code_in_narration(narration: str, rule: str, found: str) -> None:
    s = _script([narration], [[CLICK_CTA, CLICK_TASK]])
    hits = [(f.rule, f.text) for f in check_narration(s)]
    assert (rule, found) in hits, hits


def test_rubric_lets_speech_through() -> None:
    s = _script(
        ["Enter alex@northwind.test and attach brief.pdf on your iPhone, 24/7, and/or later. Click Sign in.",
         "That's all. Next time: more."],
        [[{"type": "click", "target": {"role": "button", "name": "Sign in"}}], []],
    )
    assert check_narration(s) == []


def _obs(i: int, kind: str, text: str, *, name: str | None = None) -> Observation:
    after = PageState(title="Dashboard · Lumen Tasks", heading="Welcome back, Alex", url="http://h/dashboard.html")
    return Observation(index=i, type="click", target=Target(role="button", name=name) if name else None,
                       before=PageState(title="Sign in · Lumen Tasks", url="http://h/signin.html"),
                       after=after, changes=[Change(kind=kind, text=text)])  # type: ignore[arg-type]


def test_rubric_wants_the_change_named_when_one_was_seen() -> None:
    actions = [[{"type": "click", "target": {"role": "button", "name": "Sign in"}}]]
    seen = FlowObservation(observations=[_obs(0, "page", "Dashboard · Lumen Tasks", name="Sign in")], actions=1)
    quiet = check_narration(_script(["Click Sign in."], actions), seen)
    assert [f.rule for f in quiet] == ["no_change"] and "Dashboard" in quiet[0].message
    assert check_narration(_script(["Click Sign in, and the Dashboard opens."], actions), seen) == []
    assert check_narration(_script(["Click Sign in: Welcome back, Alex!"], actions), seen) == []
    # without a silent run the proxy is weaker: the card names what it acts on
    assert check_narration(_script(["Click Sign in."], actions)) == []
    assert [f.rule for f in check_narration(_script(["Click it."], actions))] == ["no_change"]


def test_grounded_offline_draft_from_hand_made_observations() -> None:
    """The offline drafter writes from what was seen: the link's name, not its test id; the page
    that opens; the dialog; the message — and passes the rubric (no browser needed here)."""
    flow = ROOT / "resources" / "examples" / "quickstart" / "recorded-flow.spec.ts"
    settings = Settings(site="site")
    actions = rebase_local_urls(import_codegen(flow).actions, settings)
    home = PageState(title="Lumen Tasks — the calm task tracker for busy teams",
                     heading="The calm task tracker for busy teams.", url="http://h/index.html")
    signin = PageState(title="Sign in · Lumen Tasks", heading="Welcome back", url="http://h/signin.html")
    dash = PageState(title="Dashboard · Lumen Tasks", heading="Welcome back, Alex", url="http://h/dashboard.html")
    obs = [
        Observation(index=0, type="goto", after=home, changes=[Change(kind="page", text=home.title)]),
        Observation(index=1, type="click", target=Target(role="link", name="Get started free"), before=home,
                    after=signin, changes=[Change(kind="page", text=signin.title)]),
        Observation(index=6, type="click", target=Target(role="button", name="Sign in", region="form"),
                    before=signin, after=dash, changes=[Change(kind="page", text=dash.title)]),
        Observation(index=7, type="click", target=Target(role="button", name="New project", region="top bar"),
                    before=dash, after=dash.model_copy(update={"dialog": "New project"}),
                    changes=[Change(kind="dialog", text="New project")]),
    ]
    inp = DraftInput(flows=[FlowSource(flow, actions)], documents=[], prompt="", settings=settings,
                     observations=FlowObservation(observations=obs, actions=len(actions), note="a test"))
    script = offline_draft(inp).script
    text = {c.title: c.narration for c in script.cards}
    assert "We start on the Lumen Tasks home page, which says The calm task tracker" in text["Introduction"]
    assert "in Lumen Tasks" in text["Introduction"]
    assert text["Sign in"].startswith("First, follow the Get started free link to open the Sign in page, ")
    assert text["Sign in"].endswith("The Dashboard opens, which says Welcome back, Alex.")
    assert "click New project in the top bar to open the New project dialog" in text["Create project"]
    assert "hero" not in " ".join(c.narration for c in script.cards).lower()
    assert check_narration(script, inp.observations) == []


def _corpus() -> list[Path]:
    return [p for p in sorted(CORPUS.glob("*/*")) if p.is_file() and detect_kind(p) in CODEGEN_KINDS]


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_fallback_drafts_of_the_corpus_pass_the_rubric(path: Path) -> None:
    """No browser: every corpus flow's offline draft (with the example's site names, in four styles)."""
    for prompt in PROMPTS:
        res = asyncio.run(draft([path], prompt, config=DrafterConfig(site_dir=SITE_DIR),
                                settings=Settings(site="site")))
        problems = check_narration(res.script)
        assert problems == [], f"{prompt!r}: " + "\n".join(map(str, problems))


def test_draft_from_a_recorded_silent_run_passes_the_rubric_in_every_style() -> None:
    """tests/data/observations/quickstart.json is a real silent run of the example (re-record it with
    record_observations.py); drafting from it needs no browser."""
    flow = ROOT / "resources" / "examples" / "quickstart" / "recorded-flow.spec.ts"
    seen = FlowObservation.model_validate_json((ROOT / "tests" / "data" / "observations" / "quickstart.json")
                                               .read_text(encoding="utf-8"))
    settings = Settings(site="site")
    actions = rebase_local_urls(import_codegen(flow).actions, settings)
    for prompt in PROMPTS:
        inp = DraftInput(flows=[FlowSource(flow, actions)], documents=[], prompt=prompt, settings=settings,
                         observations=seen)
        script = offline_draft(inp).script
        assert check_narration(script, seen) == [], prompt
        text = " ".join(c.narration for c in script.cards)
        assert "A message appears: Settings saved." in text and "hero" not in text.lower()
