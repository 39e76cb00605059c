// Reelwright's drawn browser UI: native dialogs (alert, confirm, prompt) and the download cue.
// Headless Chromium paints neither, and while a native dialog is open the page's scripts cannot run,
// so the renderer answers the dialog at once and then draws it here as it was: over a still image of
// the page taken just before the dialog opened (so the page's reaction to the answer stays hidden
// until the drawn button is pressed).  Everything lives in the overlay's layer (window.__reelwright
// .mount), below the cursor; animations run on requestAnimationFrame and performance.now(), i.e. on
// the render's virtual clock.  Text only ever reaches the page through textContent.
(() => {
  if (window.__reelwrightDialogs) return;
  const clamp = (v, a, b) => Math.max(a, Math.min(b, v));
  const FONT = 'system-ui,"DejaVu Sans",sans-serif';
  const CSS = `
    .rw-freeze{position:absolute;left:0;top:0;width:100vw;height:100vh;object-fit:fill}
    .rw-dlg{position:absolute;left:50%;top:14px;width:min(448px,calc(100vw - 24px));box-sizing:border-box;
      transform:translateX(-50%);background:#fff;color:#1f1f1f;border-radius:12px;padding:22px 24px 20px;
      box-shadow:0 4px 8px 3px rgba(0,0,0,.15),0 1px 3px rgba(0,0,0,.3);font:400 14px/20px ${FONT};text-align:left}
    .rw-title{font:400 16px/24px ${FONT};margin:0 0 10px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
    .rw-msg{white-space:pre-wrap;overflow-wrap:anywhere;max-height:40vh;overflow:hidden;color:#1f1f1f}
    .rw-input{display:block;margin-top:14px;height:34px;box-sizing:border-box;border:2px solid #0b57d0;border-radius:4px;
      padding:0 8px;font:400 14px/30px ${FONT};color:#1f1f1f;white-space:pre;overflow:hidden}
    .rw-input .sel{background:#b3d1ff}
    .rw-input .caret{display:inline-block;width:1px;height:18px;margin-left:1px;vertical-align:-4px;background:#1f1f1f}
    .rw-buttons{display:flex;justify-content:flex-end;gap:8px;margin-top:22px}
    .rw-btn{min-width:64px;height:36px;box-sizing:border-box;padding:0 18px;border-radius:18px;font:500 14px/34px ${FONT};
      text-align:center;border:1px solid transparent}
    .rw-ok{background:#0b57d0;color:#fff}
    .rw-ok.pressed{background:#0842a0}
    .rw-cancel{background:#fff;color:#0b57d0;border-color:#747775}
    .rw-cancel.pressed{background:#dfe7f6}
    .rw-toast{position:absolute;right:16px;top:16px;display:flex;align-items:center;gap:12px;max-width:min(420px,calc(100vw - 32px));
      box-sizing:border-box;padding:14px 18px;border-radius:12px;background:#fff;color:#1f1f1f;
      box-shadow:0 4px 8px 3px rgba(0,0,0,.15),0 1px 3px rgba(0,0,0,.3);font:400 15px/20px ${FONT}}
    .rw-toast svg{flex:none;width:28px;height:28px}
    .rw-toast .t{display:flex;flex-direction:column;min-width:0}
    .rw-toast b{font-weight:600}
    .rw-toast span{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;color:#444746}`;

  function animate(ms, step, done) {
    const now = window.__reelwrightNow || (() => performance.now());
    const t0 = now();
    const tick = () => {
      const k = ms <= 0 ? 1 : clamp((now() - t0) / ms, 0, 1);
      step(k);
      if (k < 1) requestAnimationFrame(tick);
      else if (done) done();
    };
    step(0);
    requestAnimationFrame(tick);
  }
  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }
  function centre(node) {
    const r = node.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  }

  let dlg = null; // the dialog on screen: {wrap, box, input, value, ok, cancel}

  const api = {
    // Draw a dialog.  d = {kind: alert|confirm|prompt|beforeunload, title, message, value, frozen (data URL
    // or null)}.  Returns where its buttons are (viewport CSS px), or null when there is no overlay.
    draw(d) {
      const rw = window.__reelwright;
      if (!rw || !rw.mount) return null;
      api.remove();
      const wrap = el("div");
      wrap.append(el("style", null, CSS));
      if (d.frozen) {
        const img = el("img", "rw-freeze");
        img.alt = "";
        img.src = d.frozen;
        wrap.append(img);
      }
      const box = el("div", "rw-dlg");
      box.append(el("div", "rw-title", d.title), el("div", "rw-msg", d.message));
      let input = null;
      if (d.kind === "prompt") {
        input = el("div", "rw-input");
        if (d.value) input.append(el("span", "sel", d.value));
        else input.append(el("span", "caret"));
        box.append(input);
      }
      const buttons = el("div", "rw-buttons");
      const ok = el("div", "rw-btn rw-ok", "OK");
      buttons.append(ok);
      let cancel = null;
      if (d.kind !== "alert") {
        cancel = el("div", "rw-btn rw-cancel", "Cancel");
        buttons.append(cancel);
      }
      box.append(buttons);
      wrap.append(box);
      if (!rw.mount(wrap)) return null;
      dlg = { wrap, box, input, ok, cancel };
      animate(140, (k) => {
        box.style.opacity = String(k);
        box.style.transform = `translateX(-50%) scale(${0.96 + 0.04 * k})`;
      });
      return { ok: centre(ok), cancel: cancel ? centre(cancel) : null };
    },
    // Type `text` into the drawn prompt over `ms` (it replaces the selected default value).
    type(text, ms) {
      if (!dlg || !dlg.input) return false;
      const input = dlg.input;
      const chars = Array.from(text);
      animate(ms, (k) => {
        const n = Math.round(chars.length * k);
        input.replaceChildren(document.createTextNode(chars.slice(0, n).join("")), el("span", "caret"));
      });
      return true;
    },
    press(which) {
      const b = dlg && (which === "cancel" ? dlg.cancel : dlg.ok);
      if (b) b.classList.add("pressed");
      return Boolean(b);
    },
    shown: () => Boolean(dlg && dlg.wrap.isConnected),
    remove() {
      if (dlg) dlg.wrap.remove();
      dlg = null;
    },
    // The download cue: "Downloaded" and the file name, top right, for `ms`.
    toast(title, name, ms) {
      const rw = window.__reelwright;
      if (!rw || !rw.mount) return false;
      const wrap = el("div");
      wrap.append(el("style", null, CSS));
      const t = el("div", "rw-toast");
      const ns = "http://www.w3.org/2000/svg";
      const svg = document.createElementNS(ns, "svg");
      svg.setAttribute("viewBox", "0 0 28 28");
      const c = document.createElementNS(ns, "circle");
      c.setAttribute("cx", "14"); c.setAttribute("cy", "14"); c.setAttribute("r", "14"); c.setAttribute("fill", "#0b57d0");
      const p = document.createElementNS(ns, "path");
      p.setAttribute("d", "M14 7v10M9.5 12.5 14 17l4.5-4.5M8.5 20.5h11");
      p.setAttribute("fill", "none"); p.setAttribute("stroke", "#fff"); p.setAttribute("stroke-width", "2.2");
      p.setAttribute("stroke-linecap", "round"); p.setAttribute("stroke-linejoin", "round");
      svg.append(c, p);
      const txt = el("div", "t");
      txt.append(el("b", null, title), el("span", null, name));
      t.append(svg, txt);
      wrap.append(t);
      if (!rw.mount(wrap)) return false;
      const fade = Math.min(200, ms / 4);
      animate(ms, (k) => {
        const at = k * ms;
        const o = at < fade ? at / fade : at > ms - fade ? (ms - at) / fade : 1;
        t.style.opacity = String(o);
        t.style.transform = `translateY(${(1 - Math.min(1, at / fade)) * -8}px)`;
      }, () => wrap.remove());
      return true;
    },
  };
  Object.defineProperty(window, "__reelwrightDialogs", { value: api, enumerable: false });
})();
