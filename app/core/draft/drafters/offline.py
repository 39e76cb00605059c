"""The offline drafter: deterministic, always available, no model.

Groups the imported actions into meaningful steps (a navigation, a form filled and submitted, a click
and what it reveals), writes a spoken sentence for each from the actions themselves, adds the most
relevant sentence from the user's documents (lexical relevance), and shapes all of it by the
audience, tone and length the prompt asks for.  The first card introduces, the last concludes.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ...script import Locator, Script, validate_script
from ..documents import Document, Sentence
from .base import DraftInput, DraftResult, clean_speech, unique_ids
from .narrate import (
    answering,
    element_name,
    is_field,
    is_secret,
    join_clauses,
    page_name,
    phrase,
    sentence,
    title_case_phrase,
)
from .seen import SEEN, Seen, consequence, landing, opens_clause, top_change
from .sitenames import SITE_NAMES, read_site_names
from .style import Style, style_from_prompt

#: actions that enter data into a form (they gather until something submits them)
_ENTRY = frozenset({"fill", "type", "check", "uncheck", "select", "upload"})
#: actions that commit a step: after one of these, the next action starts a new group
_COMMIT = frozenset({"click", "dblclick"})
_OBSERVE = frozenset({"wait_for", "wait", "highlight", "zoom", "scroll"})
MAX_GROUP = 8
#: tab actions: how the video moves between tabs, not steps a summary would name
_TABS = frozenset({"new_page", "close_page", "switch_page", "dialog"})

_STOP = frozenset(
    """a an the and or but if then than to of in on at by for with from into onto as is are was were be
been being it its this that these those you your we our us they their them he she his her i me my
can could will would should may might must do does did done not no yes so such via per also just
only very more most less least all any each every some other there here what which who whom whose
when where why how page click button link field new dialog""".split()  # noqa: SIM905
)


def _stem(w: str) -> str:
    for suf in ("ing", "ed", "es", "s"):
        if len(w) > len(suf) + 3 and w.endswith(suf):
            return w[: -len(suf)]
    return w


def tokens(text: str) -> list[str]:
    return [_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1]


@dataclass
class Group:
    actions: list[Any] = field(default_factory=list)

    def kinds(self) -> list[str]:
        return [a.type for a in self.actions]


def _is_focus_click(a: Any, nxt: Any | None) -> bool:
    """A click into a field (before typing into it) is part of an entry, not a step of its own."""
    if a.type != "click" or getattr(a, "new_page", False) or not isinstance(a.target, Locator):
        return False
    if nxt is not None and getattr(nxt, "target", None) == a.target and nxt.type in _ENTRY | {"press"}:
        return True
    return is_field(a.target)


def group_actions(actions: list[Any]) -> list[Group]:
    """Split a flow into steps: a goto starts one; a click or Enter after entries commits one."""
    groups: list[Group] = []
    cur = Group()
    committed = False
    for i, a in enumerate(actions):
        t = a.type
        nxt = actions[i + 1] if i + 1 < len(actions) else None
        starts_new = False
        if cur.actions:
            new_page = t == "goto" and (committed or any(x.type != "goto" for x in cur.actions))
            after_commit = committed and t not in _OBSERVE
            too_long = len(cur.actions) >= MAX_GROUP and t not in _OBSERVE
            # a dialog answer stays with the action that raises it (the validator requires it)
            answers_next = cur.actions[-1].type == "dialog"
            starts_new = (new_page or after_commit or too_long) and not answers_next
        if starts_new:
            groups.append(cur)
            cur = Group()
            committed = False
        cur.actions.append(a)
        opens_form = nxt is not None and (nxt.type in _ENTRY or _is_focus_click(nxt, None))
        if (t in _COMMIT and not _is_focus_click(a, nxt) and not opens_form) or (
            t == "press" and a.key in ("Enter", "NumpadEnter")
        ):
            committed = True  # (a click that opens a form belongs with the form it opens)
    if cur.actions:
        groups.append(cur)
    return groups


def _narration_clauses(actions: list[Any], style: Style) -> tuple[list[str], list[str]]:
    """(things the viewer does, things the viewer then sees)."""
    do: list[str] = []
    see: list[str] = []
    seen = SEEN.get()
    # the step whose effect closes the card: the last one the silent run saw change something
    last_change = max((i for i, a in enumerate(actions)
                       if (o := seen.of(a)) is not None and top_change(o) is not None
                       and a.type not in ("fill", "type", "wait_for", "wait", "hover")), default=-1)
    # a later step the silent run did not see may have changed the page again: then the change seen
    # is told where it happened ("... to open the New project dialog"), not as the card's outcome
    unseen_after = any(seen.of(a) is None and a.type in _COMMIT | {"press", "select", "check", "uncheck"}
                       for a in actions[last_change + 1:]) if last_change >= 0 else False
    final = -1 if unseen_after else last_change
    for i, a in enumerate(actions):
        nxt = actions[i + 1] if i + 1 < len(actions) else None
        o = seen.of(a)
        if (
            a.type == "click"
            and nxt is not None
            and getattr(nxt, "target", None) is not None
            and nxt.target == a.target
            and nxt.type in ("fill", "type", "press", "select")
        ):
            continue  # clicking into a field before typing needs no words
        p = phrase(a)
        if p is None:
            continue
        prev = actions[i - 1] if i > 0 else None
        if prev is not None and prev.type == "dialog":  # the answer to the dialog this step raises
            asked = next((c.text for c in o.changes if c.kind == "native_dialog"), None) if o is not None else None
            p = answering(prev, p, asked)
        if o is not None and any(c.kind == "tab" for c in o.changes):
            p = p.removesuffix(", which opens in a new tab")  # the tab is named below, by its page
        if o is not None and i != final and a.type in ("click", "dblclick", "press"):
            how = opens_clause(o, seen.product)
            if how:
                p += f" {how}"
        if o is not None and i == final and a.type == "goto":
            p = f"open {landing(o, seen.product) or p.removeprefix('open ')}"  # the page it opens says it all
        if a.type == "wait_for":
            if p not in see and not (i > final >= 0):
                see.append(p)
        elif p not in do:
            do.append(p)
    if final >= 0 and actions[final].type != "goto":
        o = seen.of(actions[final])
        result = consequence(o, seen.product) if o is not None else None
        answered = final > 0 and actions[final - 1].type == "dialog"
        if answered and o is not None and (c := top_change(o)) is not None and c.kind == "native_dialog":
            result = None  # the dialog was told with the step that raised it
        if result:
            see.insert(0, result)
    return _merge_entries(do), see


def _merge_entries(do: list[str]) -> list[str]:
    """ "fill in the Name field", "fill in the Notes field" → "fill in the Name and Notes fields"."""
    out: list[str] = []
    run: list[str] = []
    for c in [*do, ""]:
        m = re.fullmatch(r"fill in the (.+) field", c)
        if m:
            run.append(m.group(1))
            continue
        if run:
            out.append(
                f"fill in the {run[0]} field"
                if len(run) == 1
                else f"fill in the {', '.join(run[:-1])} and {run[-1]} fields"
            )
            run = []
        if c:
            out.append(c)
    return out


def _group_title(g: Group, do: list[str]) -> str:
    acts = g.actions
    for i, a in enumerate(reversed(acts)):
        nxt = acts[len(acts) - i] if i > 0 else None
        if a.type in ("click", "dblclick") and not _is_focus_click(a, nxt):
            return title_case_phrase(element_name(a.target))
    values = [
        a.value
        for a in acts
        if a.type == "fill" and a.value and len(a.value) <= 40 and not is_secret(a.target, a.value)
    ]
    if values and acts[-1].type == "press":
        return title_case_phrase(values[-1])  # e.g. a task typed and added with Enter
    if do:
        return title_case_phrase(do[0])
    gotos = [a for a in g.actions if a.type == "goto"]
    if gotos:
        return title_case_phrase(page_name(gotos[-1].url).removeprefix("the "))
    p = next((phrase(a) for a in g.actions if phrase(a)), None)
    return title_case_phrase(p or "Step")


class _Relevance:
    """Pick the document sentence most related to a step (idf-weighted word overlap)."""

    def __init__(self, docs: list[Document]) -> None:
        self.items: list[tuple[Document, Sentence, Counter[str]]] = []
        for d in docs:
            for s in d.sentences():
                if 20 <= len(s.text) <= 240 and not s.text.strip().startswith(("http", "www")):
                    self.items.append((d, s, Counter(tokens(s.text))))
        n = len(self.items) or 1
        df: Counter[str] = Counter()
        for _, _, c in self.items:
            df.update(set(c))
        self.idf = {w: math.log(1 + n / k) for w, k in df.items()}
        self.used: set[int] = set()

    def best(self, query: str, *, min_score: float = 0.9) -> tuple[Document, Sentence] | None:
        q = set(tokens(query))
        best_i, best_score = -1, 0.0
        for i, (_, s, c) in enumerate(self.items):
            if i in self.used:
                continue
            shared = q & set(c)
            if not shared:
                continue
            score = sum(self.idf.get(w, 0.0) for w in shared) / (1.0 + math.log(1 + sum(c.values())))
            if re.match(r"(click|press|type|enter|select|open|go to|tap)\b", s.text, re.I):
                score *= 0.8  # an instruction repeats what the video already shows
            if score > best_score:
                best_i, best_score = i, score
        if best_i < 0 or best_score < min_score:
            return None
        self.used.add(best_i)
        d, s, _ = self.items[best_i]
        return d, s

    def overview(self) -> tuple[Document, Sentence] | None:
        for i, (d, s, _) in enumerate(self.items):
            if i not in self.used:
                self.used.add(i)
                return d, s
        return None


def _cited(doc: Document, s: Sentence) -> str:
    text = clean_speech(s.text)
    cite = doc.cite(s)
    if not cite:
        return sentence(text)
    body = text.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else "."
    return f"{body.rstrip('.!?')} ({cite}){end}"


_CONNECTORS = {
    "neutral": ("First, ", "Next, ", "Then ", "Finally, "),
    "friendly": ("First, let's ", "Next, let's ", "Now let's ", "Finally, let's "),
    "formal": ("First, we ", "Next, we ", "We then ", "Finally, we "),
    "beginners": ("First, you ", "Next, you ", "Then you ", "Finally, you "),
}


def _lead(style: Style, index: int, count: int) -> str:
    key = "beginners" if style.audience == "beginners" and style.tone == "neutral" else style.tone
    first, nxt, then, last = _CONNECTORS[key]
    if index == 0:
        return first
    if index == count - 1 and count > 2:
        return last
    return nxt if index % 2 == 1 else then


def _step_narration(do: list[str], see: list[str], style: Style, index: int, count: int) -> str:
    parts: list[str] = []
    if do and see and len(do) == 1 and ", and " not in do[0]:
        # "Follow the Settings link in the sidebar, and the Settings page opens."
        parts.append(sentence(_lead(style, index, count) + join_clauses(do) + ", and " + see[0]))
        see = see[1:]
    elif do:
        parts.append(sentence(_lead(style, index, count) + join_clauses(do)))
    if see:
        parts.append(sentence(join_clauses(see)))
    return " ".join(parts)


def _query_for(g: Group, title: str) -> str:
    """What a step is about, for finding document sentences: the names and values it touches
    (not the verbs of our own phrasing, which would match any sentence that says "follow")."""
    words = [title]
    for a in g.actions:
        target = getattr(a, "target", None)
        if isinstance(target, Locator):
            words.append(element_name(target).removeprefix("the "))
        if a.type in ("fill", "type"):
            value = a.value if a.type == "fill" else a.text
            if isinstance(target, Locator) and not is_secret(target, value):
                words.append(value)
        elif a.type == "select":
            words.extend(a.values)
        elif a.type == "goto":
            words.append(page_name(a.url).removeprefix("the "))
    return " ".join(words)


_DOC_WORDS = re.compile(
    r"\s*[-:–—]?\s*\b(user('s)? guide|guide|manual|handbook|documentation|docs|release notes|"
    r"changelog|faq|tutorial|quick ?start|overview|whitepaper|white paper|datasheet)\b\s*$",
    re.I,
)


def _product_name(inp: DraftInput, style: Style, actions: list[Any]) -> str:
    if style.title:
        return style.title
    for d in inp.documents:
        if d.title:
            name = _DOC_WORDS.sub("", d.title).strip()
            name = re.sub(r"\s+v?\d+(\.\d+)*$", "", name).strip()  # "Lumen Tasks 2.0" → "Lumen Tasks"
            if name:
                return name
    if SEEN.get().product:
        return SEEN.get().product
    gotos = [a for a in actions if a.type == "goto"]
    if gotos:
        host: str = urlsplit(gotos[0].url).hostname or ""
        if host and host not in ("localhost", "127.0.0.1", "::1", "0.0.0.0"):
            return host.removeprefix("www.").removeprefix("app.")
    return ""


def _intro(style: Style, product: str, summary: str) -> str:
    how = f"how to {summary}" if summary else f"what {product or 'it'} can do"
    in_product = (f" to {product}" if how.endswith((" in", " up")) else f" in {product}") if product else ""
    with_product = f" with {product}" if product else ""
    if style.tone == "friendly":
        return f"Hi there! In this {'quick ' if style.length == 'short' else ''}tour, we'll see {how}."
    if style.tone == "formal":
        return f"This presentation demonstrates {how}{in_product}."
    if style.audience == "developers":
        return f"This walkthrough for developers shows {how}{in_product}."
    if style.audience == "business":
        return f"In the next few moments you'll see {how}{with_product}."
    if style.audience == "beginners":
        return f"Welcome! This guide shows you, step by step, {how}{in_product}."
    return f"This demo shows {how}{in_product}."


def _outro(style: Style, summary: str) -> str:
    what = f"how to {summary}" if summary else "the main steps"
    if style.tone == "friendly":
        return f"And that's it! You've seen {what}. Thanks for watching!"
    if style.tone == "formal":
        return f"This concludes the demonstration of {what}."
    if style.audience == "business":
        return f"That's {what}, in just a few steps."
    return f"That's it: you've now seen {what}."


_VERBS = frozenset(
    """sign log create save add invite open edit delete remove share export import upload send
submit search register update publish book buy pay start set change connect draft write review approve assign
schedule plan track filter sort archive download install configure enable disable switch choose select pick
check apply close confirm cancel""".split()  # noqa: SIM905
)


_ANSWERS = frozenset({"yes", "no", "ok", "cancel", "close", "done", "got it", "dismiss", "continue", "next", "back"})


def _summary(groups: list[Group], titles: list[str]) -> str:
    """The few steps that matter (forms submitted), as a phrase: "sign in, create project, ..."."""
    picked = [(g, t) for g, t in zip(groups, titles, strict=True) if any(a.type in _ENTRY for a in g.actions)]
    picked = picked or [(g, t) for g, t in zip(groups, titles, strict=True)
                        if not all(a.type in _TABS for a in g.actions)]
    phrases: list[str] = []
    for _, t in picked:
        if t.lower() in _ANSWERS:
            continue  # "open Yes" says nothing: a button that answers a question is not a step to sum up
        first = t.split(" ", 1)[0].lower()
        p = t[:1].lower() + t[1:] if first in _VERBS else f"open {t}"
        if len(p.split()) > 1 and p not in phrases:
            phrases.append(p)
    return join_clauses(phrases[:4]).replace(", and then ", ", and ")


def offline_draft(inp: DraftInput) -> DraftResult:
    names = read_site_names(inp.site_dir) if inp.site_dir is not None and inp.site_dir.is_dir() else {}
    token = SITE_NAMES.set(names)
    seen = Seen(inp.actions, inp.observations.observations if inp.observations is not None else [])
    seen_token = SEEN.set(seen)
    try:
        return _offline_draft(inp)
    finally:
        SEEN.reset(seen_token)
        SITE_NAMES.reset(token)


def _offline_draft(inp: DraftInput) -> DraftResult:
    style = style_from_prompt(inp.prompt)
    actions = inp.actions
    warnings: list[str] = []
    rel = _Relevance(inp.documents)
    cards: list[dict[str, Any]] = []
    titles: list[str] = []

    if actions:
        groups = group_actions(actions)
        # the intro card holds the first navigation, so the page is on screen while it is introduced
        intro_actions: list[Any] = []
        if groups and groups[0].actions and groups[0].actions[0].type == "goto":
            first = groups[0].actions
            n = 1
            while n < len(first) and first[n].type in ("wait_for", "wait"):
                n += 1  # the checks that the first page loaded belong with it
            intro_actions = first[:n]
            rest = first[n:]
            groups = ([Group(rest)] if rest else []) + groups[1:]
        clauses = [_narration_clauses(g.actions, style) for g in groups]
        group_titles = [_group_title(g, do) for g, (do, _) in zip(groups, clauses, strict=True)]
        product = _product_name(inp, style, actions)
        summary = _summary(groups, group_titles)
        intro = [_intro(style, product, summary)]
        first_seen = SEEN.get().of(intro_actions[0]) if intro_actions else None
        start = landing(first_seen, SEEN.get().product) if first_seen is not None else None
        if start is None and intro_actions and intro_actions[0].type == "goto":
            start = page_name(intro_actions[0].url)
            if "." in start and " " not in start:  # a host name: say whose home page it is
                start = f"the home page of {start.removeprefix('www.').removeprefix('app.')}"
        if start:
            intro.append(sentence(f"We start on {start}"))
        if style.length != "short":
            ov = rel.best(inp.prompt + " " + product, min_score=0.5) or rel.overview()
            if ov is not None:
                intro.append(_cited(*ov))
        cards.append({"narration": " ".join(intro), "actions": intro_actions})
        titles.append("Introduction" if style.tone != "friendly" else "Welcome")
        for i, (g, (do, see)) in enumerate(zip(groups, clauses, strict=True)):
            text = _step_narration(do, see, style, i, len(groups))
            query = _query_for(g, group_titles[i])
            for k in range(style.doc_sentences_per_card):
                hit = rel.best(query, min_score=0.9 if k == 0 else 1.4)
                if hit is None:
                    break
                text += " " + _cited(*hit)
            cards.append({"narration": text or sentence("Watch this step"), "actions": list(g.actions)})
            titles.append(group_titles[i])
        outro = _outro(style, summary)
        if style.length == "long":
            hit = rel.best(product + " more learn next help support")
            if hit is not None:
                outro += " " + _cited(*hit)
        cards.append({"narration": outro, "actions": []})
        titles.append("Wrap-up" if style.tone != "formal" else "Summary")
    else:
        warnings.append(
            "no browser flow was given: the draft narrates the documents, and its cards have no browser actions yet"
        )
        sections = [s for d in inp.documents for s in d.sections if s.sentences]
        limit = {"short": 3, "normal": 6, "long": 12}[style.length]
        per = {"short": 1, "normal": 2, "long": 3}[style.length]
        product = style.title or (inp.documents[0].title if inp.documents else "this product")
        cards.append({"narration": _intro(style, product, ""), "actions": []})
        titles.append("Introduction")
        for sec in sections[:limit]:
            doc = next(d for d in inp.documents if sec in d.sections)
            cards.append({"narration": " ".join(_cited(doc, s) for s in sec.sentences[:per]), "actions": []})
            titles.append(title_case_phrase(sec.title or "Section"))
        if len(sections) > limit:
            warnings.append(
                f"only the first {limit} of {len(sections)} document sections became cards "
                "(ask for a detailed draft for more)"
            )
        cards.append({"narration": _outro(style, ""), "actions": []})
        titles.append("Wrap-up")

    ids = unique_ids(titles)
    data = {
        "version": 1,
        "title": style.title or _title_for(inp, style),
        "settings": inp.settings.model_dump(),
        "cards": [
            {
                "id": cid,
                "title": title,
                "narration": clean_speech(c["narration"]),
                "actions": [a.model_dump(exclude_defaults=True) | {"type": a.type} for a in c["actions"]],
            }
            for cid, title, c in zip(ids, titles, cards, strict=True)
        ],
    }
    script: Script = validate_script(data, source="offline draft")
    return DraftResult(script=script, warnings=warnings)


def _title_for(inp: DraftInput, style: Style) -> str:
    product = _product_name(inp, style, inp.actions) or "Product demo"
    return f"{product}: a quick tour" if style.length == "short" else f"{product}: a guided tour"
