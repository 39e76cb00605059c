/* Lumen Tasks — the example product of the Reelwright quickstart.
   One script for every page; <body data-page="..."> says which page initialises.
   All state lives in localStorage under one key, seeded with fixed sample data, so a fresh browser
   always shows the same workspace.  Deterministic by design: no Math.random, no clock-dependent
   content (dates shown are fixed strings), animations and transitions of at most 300 ms.
   User text only ever reaches the page through textContent / attributes, never as HTML. */
(() => {
  "use strict";

  const STORE_KEY = "lumen-tasks.v1";

  const PEOPLE = {
    AM: "Alex Morgan",
    JL: "Jordan Lee",
    PR: "Priya Raman",
    SK: "Sam Kim",
    DC: "Dana Cruz",
  };
  const AVATAR_COLOURS = ["#4f46e5", "#0d9488", "#d97706", "#db2777", "#7c3aed", "#2563eb", "#059669"];
  const PROJECT_COLOURS = ["#4f46e5", "#0d9488", "#d97706", "#e11d48", "#7c3aed", "#16a34a", "#2563eb", "#c026d3"];

  const TEMPLATES = {
    blank: [],
    launch: ["Define launch goals", "Write release notes", "Prepare press kit", "Plan launch webinar", "Announce on social"],
    campaign: ["Draft campaign brief", "Design social assets", "Write newsletter copy", "Schedule posts", "Review campaign results"],
    bugs: ["Triage new reports", "Reproduce the top crash", "Write a regression test", "Ship the hotfix"],
  };
  const TEMPLATE_DUES = ["Dec 2", "Dec 4", "Dec 6", "Dec 9", "Dec 11"];

  const t = (title, who, due, done = false, soon = false) => ({ title, who, due, done, soon });
  const SEED = {
    user: null,
    settings: { theme: "light", density: "comfortable", emailNotifications: true, weeklySummary: false, weekStart: "monday" },
    projects: [
      {
        id: "website-redesign", name: "Website redesign", colour: "#4f46e5", members: ["AM", "JL", "PR"],
        desc: "A new marketing site, a brand refresh and a faster sign-up flow.",
        tasks: [
          t("Finalise the homepage copy", "JL", "Nov 27", false, true), t("Audit page speed", "PR", "Nov 29"),
          t("New pricing page layout", "AM", "Dec 1"), t("Refresh the brand colours", "JL", "Nov 20", true),
          t("Moodboard for the hero", "PR", "Nov 18", true), t("Interview five customers", "AM", "Nov 15", true),
        ],
      },
      {
        id: "mobile-app", name: "Mobile app 2.0", colour: "#0d9488", members: ["SK", "DC", "AM"],
        desc: "iOS and Android release with offline mode and push reminders.",
        tasks: [
          t("Offline sync for task lists", "SK", "Nov 28", false, true), t("Push reminder settings", "DC", "Dec 3"),
          t("App Store screenshots", "AM", "Dec 5"), t("Beta feedback triage", "SK", "Dec 8"),
          t("Crash reporting", "DC", "Nov 19", true), t("Dark mode icons", "SK", "Nov 17", true),
        ],
      },
      {
        id: "q3-launch", name: "Q3 product launch", colour: "#d97706", members: ["PR", "JL"],
        desc: "Launch plan, press kit, partner emails and the customer webinar.",
        tasks: [
          t("Rehearse the webinar", "PR", "Nov 27", false, true), t("Partner email sequence", "JL", "Nov 30"),
          t("Press kit", "PR", "Nov 21", true), t("Launch checklist", "JL", "Nov 16", true),
          t("Pricing sign-off", "PR", "Nov 14", true),
        ],
      },
      {
        id: "customer-onboarding", name: "Customer onboarding", colour: "#e11d48", members: ["DC", "AM"],
        desc: "Guides, checklists and welcome emails for new workspaces.",
        tasks: [
          t("Welcome email series", "DC", "Dec 2"), t("First-week checklist", "AM", "Dec 4"),
          t("Video walkthrough", "DC", "Dec 10"), t("Import guide for spreadsheets", "AM", "Nov 22", true),
        ],
      },
      {
        id: "billing-migration", name: "Billing migration", colour: "#7c3aed", members: ["SK", "PR"],
        desc: "Move invoices and subscriptions to the new payments provider.",
        tasks: [
          t("Map subscription plans", "SK", "Nov 28", false, true), t("Dry run on staging", "PR", "Dec 6"),
          t("Customer notice", "SK", "Dec 9"), t("Export historical invoices", "PR", "Nov 20", true),
        ],
      },
      {
        id: "support-playbook", name: "Support playbook", colour: "#16a34a", members: ["JL", "DC", "SK"],
        desc: "Saved replies and escalation paths for the help desk.",
        tasks: [
          t("Escalation matrix", "JL", "Nov 21", true), t("Saved replies for billing", "DC", "Nov 19", true),
          t("Tone of voice guide", "SK", "Nov 12", true),
        ],
      },
    ],
  };

  // ---------------------------------------------------------------- storage

  function load() {
    let data = null;
    try {
      data = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    } catch (_err) {
      data = null; // corrupt or blocked storage: start from the sample workspace
    }
    if (!data || !Array.isArray(data.projects)) data = JSON.parse(JSON.stringify(SEED));
    data.settings = Object.assign({}, SEED.settings, data.settings || {});
    return data;
  }
  function save(data) {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(data));
    } catch (_err) {
      /* storage full or disabled: the page keeps working for this visit */
    }
  }
  const state = load();

  // Theme first, before anything paints.
  function applyAppearance(settings) {
    document.documentElement.dataset.theme = settings.theme === "dark" ? "dark" : "light";
    document.documentElement.dataset.density = settings.density;
  }
  applyAppearance(state.settings);

  // ---------------------------------------------------------------- helpers

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k === "style") node.style.cssText = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  }
  function hashIndex(s, n) {
    let h = 0;
    for (const ch of s) h = (h * 31 + ch.charCodeAt(0)) % 9973;
    return h % n;
  }
  function initialsOf(name) {
    const parts = name.trim().split(/\s+/).filter(Boolean);
    if (!parts.length) return "?";
    return ((parts[0][0] || "") + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
  }
  function nameFromEmail(email) {
    const local = (email.split("@")[0] || "").replace(/[._-]+/g, " ").trim();
    if (!local) return "Alex Morgan";
    return local.split(" ").map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(" ");
  }
  function me() {
    return state.user || { name: "Alex Morgan", email: "alex@lumen.example", initials: "AM" };
  }
  function avatar(initials, title) {
    return el("span", {
      class: "avatar", title: title || PEOPLE[initials] || initials, text: initials,
      style: `--c:${AVATAR_COLOURS[hashIndex(initials, AVATAR_COLOURS.length)]}`,
    });
  }
  function slugify(name) {
    const base = name.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "project";
    let slug = base;
    for (let i = 2; state.projects.some((p) => p.id === slug); i++) slug = `${base}-${i}`;
    return slug;
  }
  function projectStats(p) {
    const done = p.tasks.filter((x) => x.done).length;
    return { done, total: p.tasks.length, pct: p.tasks.length ? Math.round((done / p.tasks.length) * 100) : 0 };
  }
  function plural(n, word) {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
  }
  let toastTimer = 0;
  function toast(message) {
    let node = $(".toast");
    if (!node) {
      node = el("div", { class: "toast", role: "status", "aria-live": "polite" });
      document.body.append(node);
    }
    node.replaceChildren(iconCheck(), el("span", { text: message }));
    // next frame, so the transition runs even for a freshly created node
    requestAnimationFrame(() => node.classList.add("show"));
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => node.classList.remove("show"), 2600);
  }
  function iconCheck() {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M20 6 9 17l-5-5");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", "currentColor");
    path.setAttribute("stroke-width", "2.5");
    path.setAttribute("stroke-linecap", "round");
    path.setAttribute("stroke-linejoin", "round");
    svg.append(path);
    return svg;
  }

  // ---------------------------------------------------------------- app shell (sidebar, user)

  // Idempotent: called again whenever projects or the user's name change.
  function renderShell() {
    const user = me();
    for (const node of $$("[data-user-name]")) node.textContent = user.name;
    for (const node of $$("[data-user-avatar]")) {
      const fresh = avatar(user.initials, user.name);
      fresh.setAttribute("data-user-avatar", "");
      node.replaceWith(fresh);
    }
    const count = $("[data-project-count]");
    if (count) count.textContent = String(state.projects.length);
    const list = $("[data-project-links]");
    if (list) {
      const current = new URLSearchParams(location.search).get("id");
      list.replaceChildren(
        ...state.projects.slice(0, 6).map((p) =>
          el("li", {},
            el("a", { href: `project.html?id=${encodeURIComponent(p.id)}`, "aria-current": p.id === current ? "page" : null },
              el("span", { class: "swatch", style: `--c:${p.colour}` }), el("span", { text: p.name })))),
      );
    }
  }
  function bindShell() {
    const out = $("[data-sign-out]");
    if (out) {
      out.addEventListener("click", () => {
        state.user = null;
        save(state);
      });
    }
  }

  // ---------------------------------------------------------------- sign in

  function initSignIn() {
    const form = $("#signin-form");
    const email = $("#email");
    const password = $("#password");
    const submit = $("button[type=submit]", form);
    function setError(input, message) {
      input.setAttribute("aria-invalid", message ? "true" : "false");
      $(`#${input.id}-error`).textContent = message;
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const address = email.value.trim();
      let ok = true;
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) {
        setError(email, address ? "That doesn't look like an email address." : "Enter your email address.");
        ok = false;
      } else setError(email, "");
      if (!password.value) {
        setError(password, "Enter your password.");
        ok = false;
      } else setError(password, "");
      if (!ok) {
        (email.getAttribute("aria-invalid") === "true" ? email : password).focus();
        return;
      }
      const name = nameFromEmail(address);
      state.user = { email: address, name, initials: initialsOf(name) };
      save(state);
      submit.disabled = true;
      submit.textContent = "Signing in…";
      setTimeout(() => { location.href = "dashboard.html"; }, 250);
    });
  }

  // ---------------------------------------------------------------- dashboard

  function projectCard(p, isNew) {
    const s = projectStats(p);
    const card = el("article", {
      class: `card${isNew ? " is-new" : ""}`, style: `--c:${p.colour}`, "data-testid": "project-card",
      "data-project": p.id, "aria-labelledby": `title-${p.id}`,
    },
      el("div", { class: "top" },
        el("span", { class: "badge", "aria-hidden": "true", text: p.name.charAt(0).toUpperCase() }),
        el("h3", { id: `title-${p.id}` }, el("a", { href: `project.html?id=${encodeURIComponent(p.id)}`, text: p.name }))),
      el("p", { class: "desc", text: p.desc || "No description yet." }),
      el("div", { class: "progress", role: "progressbar", "aria-label": `${p.name} progress`, "aria-valuenow": s.pct, "aria-valuemin": 0, "aria-valuemax": 100 },
        el("i", { style: `--p:${s.pct}%` })),
      el("div", { class: "foot" },
        el("span", { class: "tnum", text: `${s.done} of ${plural(s.total, "task")} done` }),
        el("span", { class: "avatars" }, ...p.members.slice(0, 4).map((m) => avatar(m)))),
    );
    return card;
  }

  function renderStats() {
    let open = 0;
    let done = 0;
    let soon = 0;
    for (const p of state.projects) {
      for (const x of p.tasks) {
        if (x.done) done++;
        else {
          open++;
          if (x.soon) soon++;
        }
      }
    }
    const set = (key, value) => { const n = $(`[data-stat=${key}]`); if (n) n.textContent = String(value); };
    set("projects", state.projects.length);
    set("open", open);
    set("soon", soon);
    set("done", done);
  }

  function initDashboard() {
    const grid = $("#project-grid");
    const empty = $("#no-results");
    const search = $("#search");
    const shown = $("#shown-count");
    const greet = $("#greeting");
    greet.textContent = `Welcome back, ${me().name.split(" ")[0]}`;

    function render(newId) {
      grid.replaceChildren(...state.projects.map((p) => projectCard(p, p.id === newId)));
      renderStats();
      applyFilter();
    }
    function applyFilter() {
      const q = search.value.trim().toLowerCase();
      let visible = 0;
      for (const card of $$(".card", grid)) {
        const p = state.projects.find((x) => x.id === card.dataset.project);
        const hit = !q || `${p.name} ${p.desc}`.toLowerCase().includes(q);
        card.hidden = !hit;
        if (hit) visible++;
      }
      empty.hidden = visible > 0;
      $("#no-results-query").textContent = search.value.trim();
      shown.textContent = q ? `${visible} of ${plural(state.projects.length, "project")}` : plural(state.projects.length, "project");
    }
    search.addEventListener("input", applyFilter);
    search.addEventListener("keydown", (e) => { if (e.key === "Escape") { search.value = ""; applyFilter(); } });

    // New project dialog
    const dialog = $("#new-project");
    const form = $("#new-project-form");
    const name = $("#project-name");
    const nameError = $("#project-name-error");
    const backdrop = $("#new-project-backdrop");
    const opener = $("#open-new-project");
    // show(), not showModal(): see the note on dialog.modal in app.css.
    opener.addEventListener("click", () => {
      form.reset();
      name.setAttribute("aria-invalid", "false");
      nameError.textContent = "";
      backdrop.hidden = false;
      dialog.show();
      name.focus();
    });
    dialog.addEventListener("close", () => {
      backdrop.hidden = true;
      opener.focus();
    });
    backdrop.addEventListener("click", () => dialog.close());
    document.addEventListener("keydown", (e) => { if (e.key === "Escape" && dialog.open) dialog.close(); });
    $("#cancel-new-project").addEventListener("click", () => dialog.close());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const title = name.value.trim();
      if (!title) {
        name.setAttribute("aria-invalid", "true");
        nameError.textContent = "Give your project a name.";
        name.focus();
        return;
      }
      const template = $("#project-template").value;
      const invite = $("#invite-team").checked;
      const mine = me().initials;
      const members = invite ? [mine, ...["JL", "PR", "SK"].filter((x) => x !== mine)] : [mine];
      const project = {
        id: slugify(title),
        name: title,
        colour: PROJECT_COLOURS[state.projects.length % PROJECT_COLOURS.length],
        desc: $("#project-description").value.trim(),
        members,
        tasks: (TEMPLATES[template] || []).map((x, i) =>
          t(x, members[i % members.length], TEMPLATE_DUES[i % TEMPLATE_DUES.length])),
      };
      state.projects.unshift(project);
      save(state);
      dialog.close();
      search.value = "";
      render(project.id);
      renderShell();
      toast(`Project “${project.name}” created`);
    });

    render(null);
  }

  // ---------------------------------------------------------------- project page

  function initProject() {
    const id = new URLSearchParams(location.search).get("id");
    const project = state.projects.find((p) => p.id === id) || null;
    const root = $("#project");
    if (!project) {
      $("#crumb-name").textContent = "Not found";
      root.replaceChildren(
        el("div", { class: "empty" },
          el("strong", { text: "We couldn't find that project." }),
          el("a", { href: "dashboard.html", text: "Back to all projects" })),
      );
      return;
    }
    document.title = `${project.name} · Lumen Tasks`;
    $("#crumb-name").textContent = project.name;
    root.style.setProperty("--c", project.colour);
    $("#project-badge").textContent = project.name.charAt(0).toUpperCase();
    $("#project-title").textContent = project.name;
    $("#project-desc").textContent = project.desc || "No description yet.";
    $("#project-members").replaceChildren(...project.members.map((m) => avatar(m)));

    const list = $("#task-list");
    const input = $("#new-task");
    let filter = "all";
    let nextKey = 0;

    function taskItem(task, isNew) {
      const key = `task-${nextKey++}`;
      const box = el("input", { type: "checkbox", id: key });
      box.checked = task.done;
      const li = el("li", { class: `task${task.done ? " done" : ""}${isNew ? " is-new" : ""}` },
        box,
        el("label", { for: key }, el("span", { text: task.title })),
        el("span", { class: `due${task.soon && !task.done ? " soon" : ""}`, text: task.due }),
        avatar(task.who));
      box.addEventListener("change", () => {
        task.done = box.checked;
        li.classList.toggle("done", task.done);
        save(state);
        summary();
        applyFilter();
      });
      li.dataset.done = String(task.done);
      return li;
    }
    function summary() {
      const s = projectStats(project);
      $("#project-progress").style.setProperty("--p", `${s.pct}%`);
      $("#project-progress").parentElement.setAttribute("aria-valuenow", String(s.pct));
      $("#project-summary").textContent = `${s.done} of ${plural(s.total, "task")} done`;
      $("#count-all").textContent = String(s.total);
      $("#count-open").textContent = String(s.total - s.done);
      $("#count-done").textContent = String(s.done);
    }
    function applyFilter() {
      list.querySelectorAll(".task").forEach((li, i) => {
        const done = project.tasks[i].done;
        li.hidden = (filter === "open" && done) || (filter === "done" && !done);
      });
    }
    function render(newIndex) {
      list.replaceChildren(...project.tasks.map((task, i) => taskItem(task, i === newIndex)));
      summary();
      applyFilter();
    }
    input.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || event.isComposing) return;
      event.preventDefault();
      const title = input.value.trim();
      if (!title) return;
      project.tasks.unshift(t(title, me().initials, "No date"));
      save(state);
      input.value = "";
      if (filter === "done") setFilter("all");
      render(0);
    });
    function setFilter(value) {
      filter = value;
      for (const b of $$(".filters button")) b.setAttribute("aria-pressed", String(b.dataset.filter === value));
      applyFilter();
    }
    for (const b of $$(".filters button")) b.addEventListener("click", () => setFilter(b.dataset.filter));
    render(-1);
  }

  // ---------------------------------------------------------------- settings

  function initSettings() {
    const s = state.settings;
    const user = me();
    const fullName = $("#full-name");
    fullName.value = user.name;
    $("#account-email").value = user.email;
    const theme = $("#theme");
    const density = $("#density");
    const weekStart = $("#week-start");
    const emailNotes = $("#email-notifications");
    const weekly = $("#weekly-summary");
    theme.value = s.theme;
    density.value = s.density;
    weekStart.value = s.weekStart;
    emailNotes.checked = s.emailNotifications;
    weekly.checked = s.weeklySummary;
    // Appearance previews at once; Save keeps it.
    const preview = () => applyAppearance({ theme: theme.value, density: density.value });
    theme.addEventListener("change", preview);
    density.addEventListener("change", preview);
    $("#settings-form").addEventListener("submit", (event) => {
      event.preventDefault();
      Object.assign(s, {
        theme: theme.value, density: density.value, weekStart: weekStart.value,
        emailNotifications: emailNotes.checked, weeklySummary: weekly.checked,
      });
      const name = fullName.value.trim();
      if (name) state.user = Object.assign({}, user, { name, initials: initialsOf(name) });
      save(state);
      renderShell();
      toast("Settings saved");
    });
    $("#reset-settings").addEventListener("click", () => {
      theme.value = s.theme;
      density.value = s.density;
      preview();
    });
  }

  // ---------------------------------------------------------------- start

  const PAGES = { signin: initSignIn, dashboard: initDashboard, project: initProject, settings: initSettings };
  function start() {
    const page = document.body.dataset.page;
    if (document.body.classList.contains("app")) {
      renderShell();
      bindShell();
    }
    const init = PAGES[page];
    if (init) init();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
