// What the viewer sees, read from the page by the draft's silent run (app/core/draft/observe.py).
// Two functions, evaluated by Playwright: pageState() for the whole page, target(e) for one element.
// Read-only: nothing here changes the page.
(() => {
  const MAX = 120;
  const clean = (s) => (s || "").replace(/\s+/g, " ").trim().slice(0, MAX);
  const visible = (e) => {
    if (!e || !e.isConnected) return false;
    if (e.closest && e.closest("[aria-hidden=true], [hidden], [inert]")) return false;
    const r = e.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) return false; // visually-hidden text is not seen
    if (typeof e.checkVisibility === "function") {
      return e.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
    }
    const cs = getComputedStyle(e);
    return cs.visibility !== "hidden" && cs.display !== "none" && Number(cs.opacity) > 0;
  };
  const ours = (e) => !!(e.closest && e.closest("reelwright-overlay")); // the video overlay is not the page
  const byIds = (ids) =>
    clean((ids || "").split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean)
      .map((n) => n.innerText || n.textContent).join(" "));
  const nameOf = (e) => {
    if (!e) return "";
    const labelled = e.getAttribute("aria-labelledby");
    if (labelled) { const t = byIds(labelled); if (t) return t; }
    const aria = clean(e.getAttribute("aria-label"));
    if (aria) return aria;
    return "";
  };
  const HEADINGS = "h1, h2, h3, h4, h5, h6, [role=heading]";
  const level = (h) => {
    const m = /^H([1-6])$/.exec(h.tagName);
    if (m) return Number(m[1]);
    return Number(h.getAttribute("aria-level")) || 2;
  };
  const firstHeading = (root) => {
    for (const h of root.querySelectorAll(HEADINGS)) {
      if (visible(h) && !ours(h)) { const t = clean(h.textContent); if (t) return t; }
    }
    return "";
  };
  const DIALOGS = "dialog[open], [role=dialog], [role=alertdialog], [aria-modal=true]";
  const dialogName = (d) => nameOf(d) || firstHeading(d) || "";

  function pageState() {
    const heads = [...document.querySelectorAll(HEADINGS)].filter((h) => visible(h) && !ours(h));
    let main = heads.find((h) => level(h) === 1 && clean(h.textContent));
    if (!main && heads.length) {
      // no h1: the most prominent heading (the largest type, the first of equals)
      main = heads.reduce((best, h) =>
        parseFloat(getComputedStyle(h).fontSize) > parseFloat(getComputedStyle(best).fontSize) ? h : best);
    }
    const dialogs = [...document.querySelectorAll(DIALOGS)].filter((d) => visible(d) && !ours(d));
    const messages = [...document.querySelectorAll("[role=status], [role=alert], [aria-live=assertive], output")]
      .filter((m) => visible(m) && !ours(m))
      .map((m) => clean(m.innerText))
      .filter((t) => t);
    // short texts of list items, rows and cards: a step that adds one shows it appear
    const items = [...document.querySelectorAll("li, [role=listitem], [role=row], [role=option], article")]
      .filter((n) => !n.closest("nav, [role=navigation], select, datalist") && visible(n) && !ours(n))
      .map((n) => { const h = n.querySelector(HEADINGS + ", label, a"); return clean((h || n).textContent); })
      .filter((t) => t && t.length <= 60);
    return {
      title: clean(document.title),
      heading: main ? clean(main.textContent) || null : null,
      headings: [...new Set(heads.filter((h) => level(h) <= 3).map((h) => clean(h.textContent)).filter(Boolean))]
        .slice(0, 12),
      dialog: dialogs.length ? dialogName(dialogs[dialogs.length - 1]) : null,
      messages: [...new Set(messages)].slice(0, 6),
      items: [...new Set(items)].slice(0, 60),
      url: location.href,
    };
  }

  // Where an element sits, said the way a viewer would: "sidebar", "top bar", "dialog", "form"...
  const SECTIONING = "article, aside, main, nav, section, dialog, [role=dialog], [role=alertdialog]";
  function region(e) {
    const vw = innerWidth, vh = innerHeight;
    const dialog = e.closest("dialog, [role=dialog], [role=alertdialog]");
    if (dialog) return ["dialog", dialogName(dialog)];
    const sidebar = (n) => {
      const r = n.getBoundingClientRect();
      return r.height > vh * 0.5 && r.width < vw * 0.4 && (r.left < vw * 0.1 || r.right > vw * 0.9);
    };
    let found = null;
    for (let n = e.parentElement; n && n !== document.body; n = n.parentElement) {
      const tag = n.tagName.toLowerCase();
      const role = n.getAttribute("role") || "";
      const bare = (tag === "header" || tag === "footer") && n.parentElement && n.parentElement.closest(SECTIONING);
      const landmark = !bare && (["aside", "nav", "header", "footer"].includes(tag) ||
        ["navigation", "complementary", "banner", "contentinfo", "toolbar", "menubar", "tablist"].includes(role));
      if (sidebar(n) && (landmark || tag === "div")) return ["sidebar", nameOf(n) || (found ? found[1] : "")];
      if (landmark && !found) {
        const r = n.getBoundingClientRect();
        let where = tag === "footer" || role === "contentinfo" ? "footer" : "navigation";
        if (r.top < vh * 0.2 && r.height < vh * 0.25 && r.width > vw * 0.5) where = "top bar";
        else if (role === "toolbar" || role === "menubar") where = "toolbar";
        else if (role === "tablist") where = "tabs";
        found = [where, nameOf(n)];
      }
    }
    if (found) return found;
    return [e.closest("form") ? "form" : null, ""];
  }

  // The text around an element that tells the viewer what it is about: the fieldset's legend, the
  // group's or dialog's name, else the heading of the section (or the nearest heading before it).
  function context(e) {
    const fs = e.closest("fieldset");
    if (fs) { const lg = fs.querySelector("legend"); if (lg && clean(lg.textContent)) return clean(lg.textContent); }
    const group = e.parentElement && e.parentElement.closest("[role=group], [role=radiogroup], [role=toolbar]");
    if (group && nameOf(group)) return nameOf(group);
    for (let n = e.parentElement; n && n !== document.body; n = n.parentElement) {
      const tag = n.tagName.toLowerCase();
      if (["section", "article", "form", "dialog", "aside", "nav"].includes(tag) || n.getAttribute("role")) {
        const named = nameOf(n);
        if (named) return named;
        const h = firstHeading(n);
        if (h && !(n.contains(e) && e.matches(HEADINGS))) return h;
      }
    }
    // the nearest visible heading before it in the document
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT);
    let last = "";
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (n === e) break;
      if (n.matches(HEADINGS) && visible(n) && !ours(n)) last = clean(n.textContent);
    }
    return last;
  }

  function target(e) {
    const [where, regionName] = region(e);
    let value = null;
    if (e instanceof HTMLSelectElement) value = clean([...e.selectedOptions].map((o) => o.label || o.text).join(", "));
    else if (e instanceof HTMLInputElement && (e.type === "checkbox" || e.type === "radio")) {
      value = e.checked ? "checked" : "unchecked";
    } else if (e.getAttribute("aria-checked")) value = e.getAttribute("aria-checked") === "true" ? "checked" : "unchecked";
    const labels = e.labels ? [...e.labels].map((l) => clean(l.textContent)).filter(Boolean) : [];
    // the first line a label or element shows (a checkbox label often adds a description below)
    const src = e.labels && e.labels.length ? e.labels[0] : e;
    const short = clean(((src.innerText || "").split("\n").map((l) => l.trim()).filter(Boolean)[0]) || "");
    return {
      short,
      tag: e.tagName.toLowerCase(),
      aria_name: nameOf(e) || labels[0] || clean(e.getAttribute("title")) || clean(e.getAttribute("alt")) ||
        (e instanceof HTMLInputElement || e instanceof HTMLTextAreaElement ? clean(e.getAttribute("placeholder")) : ""),
      text: clean(e.innerText),
      placeholder: clean(e.getAttribute("placeholder")),
      context: context(e),
      region: where,
      region_name: regionName,
      value,
    };
  }

  return { pageState, target };
})()
