(() => {
const demo = JSON.parse(document.getElementById('demo-data').textContent);
const steps = demo.steps, media = demo.media;
const $ = id => document.getElementById(id);
const stage = $('stage'), img = $('still'), title = $('step-title'), caption = $('caption'), hint = $('hint');
const next = $('next'), count = $('count'), live = $('live'), audio = $('voice'), sound = $('sound');
const bar = $('progress');
let current = -1, muted = true, typer = null, stopAt = null, playing = null;
steps.forEach((s, i) => {
  const b = document.createElement('button');
  b.className = 'seg'; b.type = 'button';
  b.setAttribute('aria-label', 'Step ' + (i + 1) + ' of ' + steps.length + ': ' + (s.label && s.kind === 'action' ? s.label : s.title));
  b.addEventListener('click', () => go(i));
  bar.appendChild(b);
});
function playVoice(s) {
  if (s.audio === null) return;
  stopAt = s.audio_to;
  if (playing === null || playing.audio !== s.audio) audio.setAttribute('src', media[s.audio]);
  playing = s;
  try { audio.currentTime = s.audio_from; } catch (e) {}
  if (!muted) audio.play().catch(() => {});
}
audio.addEventListener('timeupdate', () => { if (stopAt !== null && audio.currentTime >= stopAt) audio.pause(); });
audio.addEventListener('loadedmetadata', () => { if (playing) { try { audio.currentTime = playing.audio_from; } catch (e) {} } });
function go(i, focus = true) {
  if (i < 0 || i >= steps.length) return;
  current = i;
  const s = steps[i];
  document.body.dataset.step = String(i);
  img.src = media[s.image];
  img.alt = 'Step ' + (i + 1) + ': ' + s.title;
  for (const el of stage.querySelectorAll('.hotspot,.typed,.cta')) el.remove();
  if (typer) { clearInterval(typer); typer = null; }
  title.textContent = s.title;
  caption.textContent = s.caption;
  count.textContent = (i + 1) + ' / ' + steps.length;
  let target = next;
  if (s.kind === 'action') {
    const h = document.createElement('button');
    h.type = 'button'; h.className = 'hotspot'; h.id = 'hotspot';
    h.setAttribute('aria-label', s.label); h.title = s.label;
    if (s.box) {
      const [x, y, w, b] = s.box;
      Object.assign(h.style, {left: (x * 100) + '%', top: (y * 100) + '%', width: (w * 100) + '%', height: (b * 100) + '%'});
    } else { h.classList.add('key'); h.textContent = s.label; }
    h.addEventListener('click', () => go(current + 1));
    stage.appendChild(h);
    target = h;
    next.textContent = 'Skip →';
    hint.textContent = s.label + (s.typed ? ': ' + s.typed : '') + ' — click the highlighted spot, or press →';
    if (s.typed && s.box) {
      const t = document.createElement('div');
      t.className = 'typed'; t.setAttribute('aria-hidden', 'true');
      t.style.left = (s.box[0] * 100) + '%'; t.style.top = ((s.box[1] + s.box[3]) * 100) + '%';
      if (s.action === 'fill' || s.action === 'type' || s.action === 'select') {
        // the text (or the chosen option) appears in the field, as it does in the video
        t.classList.add('inside');
        Object.assign(t.style, {top: (s.box[1] * 100) + '%', width: (s.box[2] * 100) + '%', height: (s.box[3] * 100) + '%'});
        t.style.setProperty('--bh', String(s.box[3] * 100));
      }
      stage.appendChild(t);
      const chars = Array.from(s.typed);
      const reduce = window.matchMedia && matchMedia('(prefers-reduced-motion: reduce)').matches;
      if (reduce) t.textContent = s.typed; else {
        let n = 0;
        typer = setInterval(() => { t.textContent = chars.slice(0, ++n).join(''); if (n >= chars.length) { clearInterval(typer); typer = null; } }, Math.max(25, Math.min(90, 1500 / chars.length)));
      }
    }
  } else if (s.kind === 'end') {
    const c = document.createElement('div');
    c.className = 'cta';
    const strong = document.createElement('strong'); strong.textContent = demo.cta ? demo.cta[0] : s.title;
    c.appendChild(strong);
    if (demo.cta && demo.cta[1]) { const sp = document.createElement('span'); sp.textContent = demo.cta[1]; c.appendChild(sp); }
    stage.appendChild(c);
    next.textContent = 'Start again ↺';
    hint.textContent = 'The end of the tour.';
  } else {
    next.textContent = i === 0 ? 'Start →' : 'Continue →';
    hint.textContent = 'Press → or Continue for the next step.';
  }
  bar.querySelectorAll('.seg').forEach((b, j) => {
    b.classList.toggle('done', j < i);
    if (j === i) b.setAttribute('aria-current', 'step'); else b.removeAttribute('aria-current');
  });
  live.textContent = 'Step ' + (i + 1) + ' of ' + steps.length + '. ' + s.title + '. ' + s.caption + (s.kind === 'action' ? ' ' + s.label + '.' : '');
  playVoice(s);
  if (focus) target.focus({preventScroll: true});
}
next.addEventListener('click', () => go(current === steps.length - 1 ? 0 : current + 1));
sound.addEventListener('click', () => {
  muted = !muted;
  sound.setAttribute('aria-pressed', String(!muted));
  sound.textContent = muted ? '🔇 Sound off' : '🔊 Sound on';
  if (muted) audio.pause(); else if (current >= 0 && steps[current].audio !== null) playVoice(steps[current]);
});
document.addEventListener('keydown', e => {
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.key === 'ArrowRight' || e.key === 'PageDown') { e.preventDefault(); go(current + 1); }
  else if (e.key === 'ArrowLeft' || e.key === 'PageUp') { e.preventDefault(); go(current - 1); }
  else if (e.key === 'Home') { e.preventDefault(); go(0); }
  else if (e.key === 'End') { e.preventDefault(); go(steps.length - 1); }
  else if (e.key === 'm' || e.key === 'M') sound.click();
});
go(0, false);
})();
