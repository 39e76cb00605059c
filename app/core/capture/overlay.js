// Reelwright's in-page overlay: the visible cursor, click ripples, highlights, the spotlight, the
// keystroke badge and the zoom "camera".  Injected into every document before the page's own scripts.  Every animation is
// driven by requestAnimationFrame and performance.now(), which run on the render's virtual clock,
// so the overlay moves frame-exactly and identically in every render.  It never touches page state
// other than its own shadow root and (while zoomed) the root element's transform.
(() => {
  if (window.__reelwright) return;
  const ease = (t) => (t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2); // easeInOutCubic
  const clamp = (v, a, b) => Math.max(a, Math.min(b, v));
  let host = null, root = null, layer = null, cursor = null;
  let cam = { s: 1, tx: 0, ty: 0 }; // current camera transform of the root element
  const anims = new Set();

  function ensure() {
    if (layer && layer.isConnected) return true;
    const de = document.documentElement;
    if (!de) return false;
    host = document.createElement("reelwright-overlay");
    host.setAttribute("aria-hidden", "true");
    host.style.cssText = "all:initial;position:fixed;left:0;top:0;width:0;height:0;z-index:2147483647;pointer-events:none;";
    root = host.attachShadow({ mode: "closed" });
    root.innerHTML = `<style>
      .layer{position:fixed;left:0;top:0;width:100vw;height:100vh;pointer-events:none;transform-origin:0 0;overflow:visible}
      .cursor{position:absolute;left:0;top:0;width:26px;height:32px;margin:-2px 0 0 -3px;filter:drop-shadow(0 2px 3px rgba(0,0,0,.35));display:none}
      .ripple{position:absolute;border-radius:50%;border:3px solid rgba(59,130,246,.95);background:rgba(59,130,246,.25);pointer-events:none}
      .ring{position:absolute;border-radius:10px;border:3px solid #f59e0b;box-shadow:0 0 0 4px rgba(245,158,11,.25),0 0 24px rgba(245,158,11,.55)}
      .shade{position:absolute;left:0;top:0;width:100%;height:100%;background:rgba(15,23,42,.55)}
      .label{position:absolute;font:600 18px/1.3 system-ui,"DejaVu Sans",sans-serif;color:#fff;background:#111827;padding:8px 12px;border-radius:8px;max-width:360px;box-shadow:0 6px 20px rgba(0,0,0,.35)}
      .keys{position:absolute;left:50%;bottom:12%;transform:translateX(-50%);display:flex;gap:.3em;align-items:center;padding:.45em .6em;border-radius:.6em;background:rgba(17,24,39,.9);box-shadow:0 8px 24px rgba(0,0,0,.35);font:600 22px/1 system-ui,"DejaVu Sans",sans-serif;color:#fff;white-space:nowrap}
      .cap{min-width:1.1em;padding:.3em .45em;border-radius:.35em;background:#374151;border-bottom:.12em solid #111827;text-align:center}
      .join{opacity:.65}
    </style><div class="layer"><svg class="cursor" viewBox="0 0 26 32" xmlns="http://www.w3.org/2000/svg"><path d="M3 2 L3 26 L9.5 20 L14 30 L18 28.2 L13.6 18.6 L22 18.6 Z" fill="#fff" stroke="#111" stroke-width="2" stroke-linejoin="round"/></svg></div>`;
    layer = root.querySelector(".layer");
    cursor = root.querySelector(".cursor");
    de.appendChild(host);
    return true;
  }

  function animate(duration, step, done) {
    const now = window.__reelwrightNow || (() => performance.now());
    const t0 = now();
    const a = { cancelled: false };
    anims.add(a);
    const tick = () => {
      if (a.cancelled) return;
      const k = duration <= 0 ? 1 : clamp((now() - t0) / duration, 0, 1);
      step(k);
      if (k < 1) requestAnimationFrame(tick);
      else { anims.delete(a); if (done) done(); }
    };
    step(0);
    requestAnimationFrame(tick);
    return a;
  }

  // The overlay layer cancels the camera transform so cursor and rings sit at viewport coordinates.
  function syncLayer() {
    if (!layer) return;
    if (cam.s === 1 && cam.tx === 0 && cam.ty === 0) { layer.style.transform = ""; return; }
    const sx = window.scrollX, sy = window.scrollY;
    // the root element is transformed: a child at root-local p shows at V = -scroll + t + s*p
    layer.style.position = "absolute";
    layer.style.transform = `translate(${(sx - cam.tx) / cam.s}px, ${(sy - cam.ty) / cam.s}px) scale(${1 / cam.s})`;
  }

  function applyCamera() {
    const de = document.documentElement;
    if (cam.s === 1 && Math.abs(cam.tx) < 0.01 && Math.abs(cam.ty) < 0.01) {
      de.style.transform = ""; de.style.transformOrigin = "";
      cam = { s: 1, tx: 0, ty: 0 };
      if (layer) layer.style.position = "fixed";
    } else {
      de.style.transformOrigin = "0 0";
      de.style.transform = `translate(${cam.tx}px, ${cam.ty}px) scale(${cam.s})`;
    }
    syncLayer();
  }

  // The camera's transform for a zoom to scale s centred on viewport point (cx, cy): it brings
  // document point (c + scroll) to the viewport centre, clamped so the page covers the view.
  function camTarget(cx, cy, s) {
    if (s === 1) return { tx: 0, ty: 0 };
    const W = window.innerWidth, H = window.innerHeight, sx = window.scrollX, sy = window.scrollY;
    const px = cx + sx, py = cy + sy;
    const tx = W / 2 + sx - s * px, ty = H / 2 + sy - s * py;
    const ux = clamp(tx - (1 - s) * sx, W * (1 - s), 0), uy = clamp(ty - (1 - s) * sy, H * (1 - s), 0);
    return { tx: ux + (1 - s) * sx, ty: uy + (1 - s) * sy };
  }
  let zoomAnim = null; // the live camera ease, while it runs
  let plan = null; // the ease being made after capture (camPlan .. camJump)
  function overlayState() {
    if (badge !== null || layer.style.visibility === "hidden") return "busy";
    const others = [...anims].filter((a) => a !== zoomAnim).length;
    const kids = [...layer.children].filter((c) => c !== cursor);
    if (kids.length === 0 && others === 0) return "clean";
    return kids.every((c) => c.className === "ripple") && others <= kids.length ? "ripples" : "busy";
  }

  let pos = null;
  let badge = null; // the keystroke badge on screen: {el, text, anim}
  let cursorK = 1; // cursor and ripple size multiplier (larger in vertical video)
  const api = {
    version: 1,
    ready: () => ensure(),
    setCursor(x, y, visible = true) {
      if (!ensure()) return;
      pos = { x, y };
      cursor.style.display = visible ? "block" : "none";
      cursor.style.transform = `translate(${x}px, ${y}px)`;
    },
    // Ease the cursor along a gentle arc from (x0,y0) to (x1,y1) in `ms` milliseconds.
    moveCursor(x0, y0, x1, y1, ms) {
      if (!ensure()) return;
      cursor.style.display = "block";
      const dx = x1 - x0, dy = y1 - y0, dist = Math.hypot(dx, dy);
      const bow = Math.min(60, dist * 0.12); // perpendicular bow of the arc
      const nx = dist ? -dy / dist : 0, ny = dist ? dx / dist : 0;
      animate(ms, (k) => {
        const e = ease(k), arc = Math.sin(Math.PI * e) * bow;
        const x = x0 + dx * e + nx * arc, y = y0 + dy * e + ny * arc;
        pos = { x, y };
        cursor.style.transform = `translate(${x}px, ${y}px)`;
      });
    },
    ripple(x, y) {
      if (!ensure()) return;
      const r = document.createElement("div");
      r.className = "ripple";
      layer.appendChild(r);
      animate(450, (k) => {
        const d = (10 + 46 * ease(k)) * cursorK;
        r.style.width = r.style.height = `${d}px`;
        r.style.left = `${x - d / 2}px`; r.style.top = `${y - d / 2}px`;
        r.style.opacity = String(1 - k);
      }, () => r.remove());
    },
    // A ring around a rectangle (viewport coords), optionally dimming everything else, with a label.
    highlight(rect, ms, label, spotlight) {
      if (!ensure()) return;
      const pad = 6, x = rect.x - pad, y = rect.y - pad, w = rect.width + 2 * pad, h = rect.height + 2 * pad;
      const els = [];
      if (spotlight) {
        const s = document.createElement("div");
        s.className = "shade";
        s.style.clipPath = `polygon(0 0,100% 0,100% 100%,0 100%,0 0,${x}px ${y}px,${x}px ${y + h}px,${x + w}px ${y + h}px,${x + w}px ${y}px,${x}px ${y}px)`;
        layer.appendChild(s); els.push(s);
      }
      const ring = document.createElement("div");
      ring.className = "ring";
      Object.assign(ring.style, { left: `${x}px`, top: `${y}px`, width: `${w}px`, height: `${h}px` });
      layer.appendChild(ring); els.push(ring);
      if (label) {
        const l = document.createElement("div");
        l.className = "label";
        l.textContent = label;
        const below = y + h + 12, vh = window.innerHeight;
        l.style.left = `${clamp(x, 12, window.innerWidth - 372)}px`;
        if (below + 60 < vh) l.style.top = `${below}px`; else l.style.top = `${Math.max(12, y - 60)}px`;
        layer.appendChild(l); els.push(l);
      }
      const fade = Math.min(250, ms / 4);
      animate(ms, (k) => {
        const t = k * ms;
        const o = t < fade ? t / fade : t > ms - fade ? (ms - t) / fade : 1;
        for (const e of els) e.style.opacity = String(o);
      }, () => els.forEach((e) => e.remove()));
    },
    // Ease the camera to scale `s` centred on viewport point (cx, cy) over `ms`.  With `carry` the
    // cursor stays on the same spot of the page while the camera moves (it rides along).
    zoomTo(cx, cy, s, ms, carry = false) {
      if (!ensure()) return;
      const sx = window.scrollX, sy = window.scrollY;
      const from = { ...cam };
      // the page point under the cursor: V = -scroll + t + s*p  =>  p = (V + scroll - t) / s
      const anchor = carry && pos ? { x: (pos.x + sx - from.tx) / from.s, y: (pos.y + sy - from.ty) / from.s } : null;
      const { tx, ty } = camTarget(cx, cy, s);
      // While the scale eases, composite the page as one layer instead of repainting all of it every
      // frame (3-4x cheaper per frame); it is repainted crisply once the camera comes to rest.
      const de = document.documentElement;
      de.style.willChange = "transform";
      zoomAnim = animate(ms, (k) => {
        const e = ease(k);
        cam = { s: from.s + (s - from.s) * e, tx: from.tx + (tx - from.tx) * e, ty: from.ty + (ty - from.ty) * e };
        applyCamera();
        if (anchor) {
          pos = { x: -sx + cam.tx + cam.s * anchor.x, y: -sy + cam.ty + cam.s * anchor.y };
          cursor.style.transform = `translate(${pos.x}px, ${pos.y}px)`;
        }
      }, () => { de.style.willChange = ""; zoomAnim = null; });
    },
    // An ease made after capture (see postcam.py): what zoomTo(cx, cy, s, ms, true) would do, as
    // the camera before and after ({s, ux, uy}: a 1x viewport point v shows at s*v + u), the 1x
    // viewport point under the cursor (null: no cursor), and what is on the overlay: "clean" (the
    // cursor alone), "ripples" (click ripples too, gone within half a second) or "busy" (anything
    // else, which would be scaled with the page: the ease stays live).
    camPlan(cx, cy, s) {
      if (!ensure() || (cam.s === 1 && s === 1)) return null;
      const sx = window.scrollX, sy = window.scrollY;
      const to = { s, ...camTarget(cx, cy, s) };
      const shown = cursor.style.display === "block" && pos !== null;
      const p = shown ? { x: (pos.x + sx - cam.tx) / cam.s, y: (pos.y + sy - cam.ty) / cam.s } : null;
      plan = { to, p, id: Math.random() };
      const u = (c) => ({ s: c.s, ux: c.tx + (c.s - 1) * sx, uy: c.ty + (c.s - 1) * sy });
      return { id: plan.id, from: u(cam), to: u(to), anchor: p ? { x: p.x - sx, y: p.y - sy } : null,
               overlay: overlayState(), vw: window.innerWidth, vh: window.innerHeight };
    },
    camOverlay: () => overlayState(),
    // The ease's frames show the page at 1x without the overlay (the camera is added after
    // capture); a live ease that was waiting for a ripple to end stops where it is.
    camBare() {
      if (!ensure()) return;
      if (zoomAnim) { zoomAnim.cancelled = true; anims.delete(zoomAnim); zoomAnim = null; }
      document.documentElement.style.willChange = "";
      cam = { s: 1, tx: 0, ty: 0 };
      applyCamera();
      layer.style.visibility = "hidden";
    },
    // The ease is over: the page at the camera's target for real, the cursor where it rode to.
    camJump(id) {
      if (!ensure()) return null;
      layer.style.visibility = "";
      if (!plan || plan.id !== id) return pos; // a new document meanwhile: it starts at 1x
      const sx = window.scrollX, sy = window.scrollY, { to, p } = plan;
      plan = null;
      cam = { s: to.s, tx: to.tx, ty: to.ty };
      applyCamera();
      if (p) {
        pos = { x: -sx + cam.tx + cam.s * p.x, y: -sy + cam.ty + cam.s * p.y };
        cursor.style.transform = `translate(${pos.x}px, ${pos.y}px)`;
      }
      return pos;
    },
    // The keys of a shortcut as key caps (already labelled for the viewer's platform by the
    // renderer), held ~1.4 s; a new shortcut replaces the one on screen.
    showKeys(caps, joiner, k = 1) {
      if (!ensure()) return;
      if (badge) { badge.anim.cancelled = true; anims.delete(badge.anim); badge.el.remove(); badge = null; }
      const el = document.createElement("div");
      el.className = "keys";
      el.style.fontSize = `${22 * k}px`;
      caps.forEach((c, i) => {
        if (i && joiner) { const j = document.createElement("span"); j.className = "join"; j.textContent = joiner; el.appendChild(j); }
        const cap = document.createElement("span"); cap.className = "cap"; cap.textContent = c; el.appendChild(cap);
      });
      layer.appendChild(el);
      const ms = 1400, fadeIn = 120, fadeOut = 300;
      const rec = { el, text: caps.join(joiner) };
      rec.anim = animate(ms, (p) => {
        const t = p * ms;
        el.style.opacity = String(t < fadeIn ? t / fadeIn : t > ms - fadeOut ? (ms - t) / fadeOut : 1);
      }, () => { el.remove(); if (badge === rec) badge = null; });
      badge = rec;
    },
    keysShown: () => (badge ? badge.text : null),
    camera: () => ({ ...cam }),
    setCursorScale(k) {
      if (!ensure() || !(k > 0)) return;
      cursorK = k;
      cursor.style.width = `${26 * k}px`; cursor.style.height = `${32 * k}px`;
      cursor.style.margin = `${-2 * k}px 0 0 ${-3 * k}px`;
    },
    cursorPos: () => pos,
    // Extensions (dialogs.js) draw into the layer, below the cursor and ripples; hide() keeps the whole
    // layer out of a snapshot of the page.
    mount(node) { if (!ensure()) return false; layer.insertBefore(node, layer.firstChild); return true; },
    hide(hidden) { if (ensure()) layer.style.visibility = hidden ? "hidden" : ""; },
  };
  window.addEventListener("scroll", syncLayer, { passive: true });
  Object.defineProperty(window, "__reelwright", { value: api, enumerable: false });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ensure, { once: true });
  else ensure();
})();
