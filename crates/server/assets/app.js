// gatehouse dashboard: plain JS, no framework, no network beyond this origin.
// Untrusted text (commands, arguments, reasons) only ever enters the page as
// text nodes, never as HTML.
'use strict';

const S = {
  csrf: '', user: '', role: '', lockdown: false,
  queue: [], skew: 0, selected: 0, stream: null, view: '',
};

// ---------- helpers ----------
const $ = (id) => document.getElementById(id);

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

async function api(path, opts = {}) {
  const init = { method: opts.method || 'GET', credentials: 'same-origin', headers: {} };
  if (opts.body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  if (init.method !== 'GET') init.headers['X-CSRF-Token'] = opts.csrf || S.csrf;
  const res = await fetch(path, init);
  let data = null;
  try { data = await res.json(); } catch (_) { data = null; }
  if (res.status === 401 && !opts.quiet) { showLogin(); }
  if (!res.ok) {
    const err = new Error((data && data.error) || res.statusText);
    err.status = res.status;
    throw err;
  }
  return data;
}

let toastTimer = 0;
function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 3500);
}

const serverNow = () => Date.now() + S.skew;

function dur(ms) {
  if (ms < 10000) return (Math.max(0, ms) / 1000).toFixed(1) + 's';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + String(s % 60).padStart(2, '0') + 's';
  const hr = Math.floor(m / 60);
  if (hr < 48) return hr + 'h ' + String(m % 60).padStart(2, '0') + 'm';
  return Math.floor(hr / 24) + 'd';
}

const when = (ms) => new Date(ms).toLocaleString();

// ---------- syntax highlighting (shell, JSON) ----------
function highlightShell(text) {
  const out = document.createDocumentFragment();
  const re = /('(?:[^']*)'|"(?:\\.|[^"\\])*"|\$\(|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|&&|\|\||[|;&<>()`]|\s+|[^\s'"|;&<>()`$]+|\$)/g;
  let expectCmd = true;
  let m;
  while ((m = re.exec(text)) !== null) {
    const tok = m[0];
    let cls = '';
    if (/^\s+$/.test(tok)) { out.append(tok); if (tok.includes('\n')) expectCmd = true; continue; }
    if (tok[0] === "'" || tok[0] === '"') cls = 't-str';
    else if (tok[0] === '$' && tok.length > 1 && tok !== '$(') cls = 't-var';
    else if (/^(&&|\|\||[|;&()`]|\$\()$/.test(tok)) { cls = 't-op'; expectCmd = true; out.append(h('span', { class: cls }, tok)); continue; }
    else if (/^[<>]$/.test(tok)) cls = 't-op';
    else if (expectCmd && !/=/.test(tok)) { cls = 't-cmd'; expectCmd = ['sudo', 'env', 'nohup', 'time', 'xargs', 'exec', 'command', 'nice', 'timeout', 'doas'].includes(tok); out.append(h('span', { class: cls }, tok)); continue; }
    else if (/^--?[A-Za-z0-9]/.test(tok)) cls = 't-flag';
    out.append(cls ? h('span', { class: cls }, tok) : tok);
  }
  return out;
}

function highlightJson(value) {
  const text = JSON.stringify(value, null, 2) || '';
  const out = document.createDocumentFragment();
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|([^"\d\-tfn]+|.)/g;
  let m;
  while ((m = re.exec(text)) !== null) {
    if (m[1]) { out.append(h('span', { class: m[2] ? 't-key' : 't-str' }, m[1])); if (m[2]) out.append(m[2]); }
    else if (m[3]) out.append(h('span', { class: 't-flag' }, m[3]));
    else if (m[4]) out.append(h('span', { class: 't-var' }, m[4]));
    else out.append(m[0]);
  }
  return out;
}

// A call's command (or arguments) highlighted; long ones folded behind a summary.
function callBody(call, full) {
  const isCmd = typeof call.command === 'string' && call.command.length > 0;
  const text = isCmd ? call.command : JSON.stringify(call.input, null, 2) || '';
  const pre = h('pre', { class: 'cmd' }, isCmd ? highlightShell(text) : highlightJson(call.input));
  const lines = text.split('\n').length;
  if (full || (text.length <= 240 && lines <= 4)) return pre;
  const first = text.split('\n')[0].slice(0, 120);
  return h('details', { class: 'fold' },
    h('summary', {}, `${first}… (${text.length} characters, ${lines} lines — show all)`), pre);
}

function ruleChips(decision) {
  const rules = (decision && decision.rules) || [];
  if (!rules.length) return h('div', { class: 'rules' }, h('span', { class: 'rule' }, '(no rule: default)'));
  return h('div', { class: 'rules', 'aria-label': 'matched rules' },
    rules.map((r) => h('span', { class: 'rule', title: r.message || '' }, r.id ? `${r.id} · ${r.name}` : r.name)));
}

// ---------- session ----------
async function boot() {
  $('loading').hidden = true;
  try {
    const me = await api('/ui/api/me', { quiet: true });
    signedIn(me);
  } catch (e) {
    showLogin();
  }
}

function showLogin() {
  if (S.stream) { S.stream.close(); S.stream = null; }
  S.csrf = '';
  $('nav').hidden = true; $('who').hidden = true;
  for (const el of [...$('view').children]) if (el.id !== 'login') el.remove();
  $('login').hidden = false;
  $('login-user').focus();
}

async function login(ev) {
  ev.preventDefault();
  const err = $('login-error');
  err.textContent = '';
  $('login-submit').disabled = true;
  try {
    const start = await api('/ui/api/login', { quiet: true });
    const me = await api('/ui/api/login', {
      method: 'POST', csrf: start.csrf, quiet: true,
      body: { user: $('login-user').value, password: $('login-password').value, code: $('login-code').value.trim() },
    });
    $('login-password').value = ''; $('login-code').value = '';
    signedIn(me);
  } catch (e) {
    err.textContent = e.message || 'sign-in failed';
    $('login-code').value = '';
    $('login-code').focus();
  } finally {
    $('login-submit').disabled = false;
  }
}

function signedIn(me) {
  S.csrf = me.csrf; S.user = me.user; S.role = me.role;
  $('login').hidden = true;
  $('nav').hidden = false; $('who').hidden = false;
  $('user').textContent = `${me.user} (${me.role})`;
  setLockdown(!!me.lockdown);
  openStream();
  route();
}

async function logout() {
  try { await api('/ui/api/logout', { method: 'POST', quiet: true }); } catch (_) { /* signed out anyway */ }
  showLogin();
}

function setLockdown(on) {
  S.lockdown = on;
  $('lockdown-banner').hidden = !on;
}

// ---------- live queue ----------
function openStream() {
  if (S.stream) S.stream.close();
  const es = new EventSource('/ui/api/stream');
  S.stream = es;
  es.addEventListener('queue', (ev) => {
    const data = JSON.parse(ev.data);
    if (data.error) { toast(data.error); return; }
    S.skew = data.now - Date.now();
    setLockdown(!!data.lockdown);
    const before = new Set(S.queue.map((a) => a.id));
    S.queue = data.items;
    const fresh = S.queue.filter((a) => !before.has(a.id)).length;
    const count = $('count');
    count.textContent = String(S.queue.length);
    count.classList.toggle('hot', S.queue.length > 0);
    document.title = S.queue.length ? `(${S.queue.length}) gatehouse` : 'gatehouse';
    if (S.view === 'pending') renderQueue(fresh);
  });
  es.onerror = () => {
    // The browser reconnects by itself; a 401 means the session ended.
    if (es.readyState === EventSource.CLOSED) {
      api('/ui/api/me').then(() => setTimeout(openStream, 1000)).catch(() => {});
    }
  };
}

function viewRoot(title) {
  for (const el of [...$('view').children]) if (el.id !== 'login') el.remove();
  const root = h('section', { 'aria-labelledby': 'view-title' }, h('h1', { id: 'view-title' }, title));
  $('view').append(root);
  return root;
}

function renderPending() {
  const root = viewRoot('Pending approvals');
  root.append(h('p', { class: 'hint' },
    'Keys: ', h('kbd', {}, 'j'), '/', h('kbd', {}, 'k'), ' select · ', h('kbd', {}, 'a'), ' approve · ',
    h('kbd', {}, 's'), ' approve for session · ', h('kbd', {}, 'd'), ' deny (type a reason, Enter) · ',
    h('kbd', {}, 'o'), ' open context'));
  root.append(h('ul', { id: 'queue', class: 'queue', 'aria-live': 'polite', 'aria-label': 'pending approvals, newest first' }));
  renderQueue(0);
}

function renderQueue() {
  const list = $('queue');
  if (!list) return;
  // Keep typed reasons and focus across live updates.
  const typed = {};
  for (const input of list.querySelectorAll('input[data-reason]')) typed[input.dataset.reason] = input.value;
  const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.reason || document.activeElement.dataset.id : null;
  const focusedKind = document.activeElement ? document.activeElement.dataset.kind : null;
  list.replaceChildren();
  if (!S.queue.length) {
    list.append(h('li', { class: 'empty' }, 'Nothing is waiting for a decision. New asks appear here as they arrive.'));
    return;
  }
  S.selected = Math.min(S.selected, S.queue.length - 1);
  S.queue.forEach((a, i) => list.append(queueItem(a, i)));
  tick();
  if (focusedId) {
    const el = list.querySelector(`[data-id="${CSS.escape(focusedId)}"][data-kind="${focusedKind}"]`) ||
      list.querySelector(`input[data-reason="${CSS.escape(focusedId)}"]`);
    if (el) el.focus();
  }
  for (const [id, v] of Object.entries(typed)) {
    const input = list.querySelector(`input[data-reason="${CSS.escape(id)}"]`);
    if (input) input.value = v;
  }
}

function queueItem(a, i) {
  const ctx = a.context || {};
  const sev = a.decision.severity || '';
  const reasonId = `reason-${a.id}`;
  const ttlId = `ttl-${a.id}`;
  const votes = a.required_approvers > 1 ? h('span', {}, `votes ${a.votes.length}/${a.required_approvers}`) : null;
  return h('li', {
    class: `item ${sev ? 'sev-' + sev : ''} ${i === S.selected ? 'selected' : ''}`,
    'data-approval': a.id, 'aria-current': i === S.selected ? 'true' : null,
    onclick: () => { S.selected = i; markSelected(); },
  },
  h('div', { class: 'head' },
    h('span', { class: 'tool' }, a.call.tool),
    sev ? h('span', { class: `sev ${sev}` }, sev) : null,
    h('span', { class: 'muted' }, 'asked ', h('span', { 'data-age': a.created_at }, dur(serverNow() - a.created_at)), ' ago'),
    h('span', { class: 'countdown', 'data-expires': a.expires_at }, '')),
  h('div', { class: 'meta' },
    h('span', {}, 'agent ', h('b', {}, ctx.agent || ctx.host || a.submitted_by)),
    h('span', {}, 'session ', h('b', {}, ctx.session || ctx.host_session_id || '—')),
    ctx.cwd ? h('span', {}, 'cwd ', h('b', {}, ctx.cwd)) : null,
    votes),
  callBody(a.call, false),
  ruleChips(a.decision),
  a.decision.message ? h('p', { class: 'msg' }, a.decision.message) : null,
  h('div', { class: 'actions' },
    h('button', { type: 'button', class: 'ok', 'data-id': a.id, 'data-kind': 'approve', onclick: () => approve(a.id, false) }, 'Approve'),
    h('label', { for: ttlId, class: 'hint' }, 'for'),
    h('select', { id: ttlId, 'data-ttl': a.id, 'aria-label': 'grant duration' },
      h('option', { value: '15m' }, '15 min'), h('option', { value: '1h', selected: true }, '1 hour'),
      h('option', { value: '8h' }, '8 hours'), h('option', { value: '24h' }, '24 hours')),
    h('button', { type: 'button', 'data-id': a.id, 'data-kind': 'session', onclick: () => approve(a.id, true) }, 'Approve for session'),
    h('label', { for: reasonId, class: 'hint' }, 'Reason'),
    h('input', { id: reasonId, type: 'text', 'data-reason': a.id, placeholder: 'why deny (the agent reads this)',
      onkeydown: (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); deny(a.id); } if (ev.key === 'Escape') ev.target.blur(); } }),
    h('button', { type: 'button', class: 'bad', 'data-id': a.id, 'data-kind': 'deny', onclick: () => deny(a.id) }, 'Deny'),
    h('a', { href: `#/a/${encodeURIComponent(a.id)}` }, 'Context')));
}

function markSelected() {
  const items = document.querySelectorAll('#queue .item');
  items.forEach((el, i) => {
    el.classList.toggle('selected', i === S.selected);
    if (i === S.selected) { el.setAttribute('aria-current', 'true'); el.scrollIntoView({ block: 'nearest' }); }
    else el.removeAttribute('aria-current');
  });
}

function tick() {
  const now = serverNow();
  for (const el of document.querySelectorAll('[data-age]')) el.textContent = dur(now - Number(el.dataset.age));
  for (const el of document.querySelectorAll('[data-expires]')) {
    const left = Number(el.dataset.expires) - now;
    el.textContent = left > 0 ? `expires in ${dur(left)}` : 'expiring…';
    el.classList.toggle('soon', left < 60000);
  }
}

async function approve(id, forSession) {
  const body = {};
  if (forSession) {
    body.for_session = true;
    const sel = document.querySelector(`select[data-ttl="${CSS.escape(id)}"]`);
    body.ttl = sel ? sel.value : '1h';
  }
  try {
    const a = await api(`/ui/api/approvals/${encodeURIComponent(id)}/approve`, { method: 'POST', body });
    toast(a.status === 'approved' ? `Approved${forSession ? ' for the session' : ''}` : `Vote recorded (${a.votes.length}/${a.required_approvers})`);
  } catch (e) { toast(`Not approved: ${e.message}`); }
}

async function deny(id) {
  const input = document.querySelector(`input[data-reason="${CSS.escape(id)}"]`);
  const reason = input ? input.value.trim() : '';
  if (!reason) {
    toast('Type a reason first: the agent reads it');
    if (input) input.focus();
    return;
  }
  try {
    await api(`/ui/api/approvals/${encodeURIComponent(id)}/deny`, { method: 'POST', body: { reason } });
    toast('Denied');
  } catch (e) { toast(`Not denied: ${e.message}`); }
}

document.addEventListener('keydown', (ev) => {
  if (S.view !== 'pending' || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) return;
  const a = S.queue[S.selected];
  switch (ev.key) {
    case 'j': S.selected = Math.min(S.selected + 1, S.queue.length - 1); markSelected(); break;
    case 'k': S.selected = Math.max(S.selected - 1, 0); markSelected(); break;
    case 'a': if (a) approve(a.id, false); break;
    case 's': if (a) approve(a.id, true); break;
    case 'd': if (a) { ev.preventDefault(); const i = document.querySelector(`input[data-reason="${CSS.escape(a.id)}"]`); if (i) i.focus(); } break;
    case 'o': if (a) location.hash = `#/a/${encodeURIComponent(a.id)}`; break;
    default: return;
  }
});

// ---------- context ----------
async function renderContext(id) {
  const root = viewRoot('Approval');
  root.append(h('p', {}, h('a', { href: '#/pending' }, '← Pending')));
  let c;
  try { c = await api(`/ui/api/approvals/${encodeURIComponent(id)}`); } catch (e) { root.append(h('p', { class: 'error' }, e.message)); return; }
  const a = c.approval;
  const ctx = a.context || {};
  $('view-title').textContent = `${a.call.tool} — ${a.status}`;
  const res = a.resolution;
  root.append(h('div', { class: 'grid2' },
    h('div', { class: 'panel' }, h('h2', {}, 'Request'),
      h('dl', { class: 'kv' },
        h('dt', {}, 'status'), h('dd', { class: `s-${a.status}` }, a.status),
        h('dt', {}, 'asked'), h('dd', {}, when(a.created_at)),
        h('dt', {}, 'expires'), h('dd', {}, when(a.expires_at)),
        h('dt', {}, 'agent'), h('dd', {}, ctx.agent || '—'),
        h('dt', {}, 'host'), h('dd', {}, ctx.host || '—'),
        h('dt', {}, 'session'), h('dd', {}, ctx.session || ctx.host_session_id || '—'),
        h('dt', {}, 'cwd'), h('dd', {}, ctx.cwd || '—'),
        h('dt', {}, 'submitted by'), h('dd', {}, a.submitted_by),
        h('dt', {}, 'severity'), h('dd', {}, a.decision.severity || '—'),
        h('dt', {}, 'approvers'), h('dd', {}, `${a.votes.length}/${a.required_approvers}`),
        res ? [h('dt', {}, 'resolved'), h('dd', {}, `${res.status} by ${res.by || 'system'} via ${res.channel}${res.reason ? ': ' + res.reason : ''}`)] : null),
      ruleChips(a.decision),
      a.decision.message ? h('p', { class: 'msg' }, a.decision.message) : null),
    h('div', { class: 'panel' }, h('h2', {}, 'Commands the shell analysis found'),
      c.commands.length ? h('ol', {}, c.commands.map((argv) => h('li', {}, h('code', {}, argv.map((w) => JSON.stringify(w)).join(' ')))))
        : h('p', { class: 'muted' }, 'Not a shell command.'),
      h('h2', {}, 'Shape'), h('pre', { class: 'cmd' }, c.shape))));
  root.append(h('h2', {}, 'Full arguments'), h('pre', { class: 'cmd' }, highlightJson(a.call.input)));
  if (a.call.command) root.append(h('h2', {}, 'Command'), callBody(a.call, true));
  if (a.status === 'pending') {
    S.queue = S.queue.some((q) => q.id === a.id) ? S.queue : [a, ...S.queue];
    root.append(h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'ok', onclick: async () => { await approve(a.id, false); renderContext(id); } }, 'Approve'),
      h('select', { 'data-ttl': a.id, 'aria-label': 'grant duration' }, h('option', { value: '1h' }, '1 hour'), h('option', { value: '8h' }, '8 hours')),
      h('button', { type: 'button', onclick: async () => { await approve(a.id, true); renderContext(id); } }, 'Approve for session'),
      h('label', { for: 'ctx-reason', class: 'hint' }, 'Reason'),
      h('input', { id: 'ctx-reason', type: 'text', 'data-reason': a.id, placeholder: 'why deny' }),
      h('button', { type: 'button', class: 'bad', onclick: async () => { await deny(a.id); renderContext(id); } }, 'Deny')));
  }
  root.append(h('h2', {}, 'Similar past decisions'));
  root.append(c.similar.length ? table(['asked', 'call', 'rules', 'same', 'outcome'], c.similar.map((p) => [
    when(p.created_at), p.command || p.tool, (p.rules || []).join(', '),
    [p.same_call ? 'exact call' : null, p.same_rule ? 'rule' : null, p.same_shape ? 'command shape' : null].filter(Boolean).join(', '),
    h('span', { class: `s-${p.status}` }, `${p.status}${p.resolution && p.resolution.by ? ' by ' + p.resolution.by : ''}${p.resolution && p.resolution.reason ? ': ' + p.resolution.reason : ''}`),
  ])) : h('p', { class: 'muted' }, 'No similar approvals were resolved before.'));
  root.append(h('h2', {}, 'Recent decisions in this session'));
  root.append(c.session_recent.length ? auditTable(c.session_recent) : h('p', { class: 'muted' }, 'Nothing else recorded for this session.'));
}

function table(headers, rows) {
  return h('div', { class: 'tablewrap' }, h('table', {},
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((cell) => h('td', { class: 'wrap' }, cell)))))));
}

function auditTable(entries) {
  return table(['#', 'time', 'kind', 'tool', 'call', 'decision', 'rules', 'who / why'], entries.map((e) => {
    const r = e.record;
    const call = r.input && typeof r.input.command === 'string' ? r.input.command : JSON.stringify(r.input);
    return [String(e.seq), when(r.time), r.kind, r.tool || '', (call || '').slice(0, 200),
      h('span', { class: `d-${r.decision || ''} s-${r.outcome || ''}` }, r.outcome || r.decision || ''),
      (r.rules || []).join(', '),
      [r.actor, r.channel ? `via ${r.channel}` : null, r.reason || r.message].filter(Boolean).join(' · ')];
  }));
}

// ---------- history ----------
async function renderHistory() {
  const root = viewRoot('History');
  const status = h('p', { id: 'chain', role: 'status' }, 'Verifying the audit chain…');
  root.append(status);
  api('/ui/api/verify').then((v) => {
    status.replaceChildren(v.ok
      ? h('span', { class: 'badge ok' }, `✓ chain intact: ${v.records} records`)
      : h('span', { class: 'badge bad' }, `✗ chain broken: ${v.fault}`));
  }).catch((e) => status.replaceChildren(h('span', { class: 'badge bad' }, `cannot verify: ${e.message}`)));
  const field = (name, label, el) => h('label', {}, label, el || h('input', { name, type: 'text' }));
  const form = h('form', { class: 'filters', role: 'search' },
    field('q', 'Search', h('input', { name: 'q', type: 'search', placeholder: 'any text' })),
    field('decision', 'Decision', h('select', { name: 'decision' }, ['', 'allow', 'ask', 'deny', 'defer'].map((d) => h('option', { value: d }, d || 'any')))),
    field('rule', 'Rule'), field('session', 'Session'), field('tool', 'Tool'),
    field('since', 'From', h('input', { name: 'since', type: 'datetime-local' })),
    field('until', 'To', h('input', { name: 'until', type: 'datetime-local' })),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'));
  const results = h('div', { id: 'history-results', 'aria-live': 'polite' });
  root.append(form, results);
  const load = async () => {
    const p = new URLSearchParams();
    for (const [k, v] of new FormData(form).entries()) {
      if (!v) continue;
      p.set(k, (k === 'since' || k === 'until') ? String(new Date(v).getTime()) : v);
    }
    results.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      const d = await api(`/ui/api/history?${p}`);
      results.replaceChildren(h('p', { class: 'hint' }, `${d.entries.length} records, newest first`),
        d.entries.length ? auditTable(d.entries) : h('p', { class: 'muted' }, 'No records match.'));
    } catch (e) { results.replaceChildren(h('p', { class: 'error' }, e.message)); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  load();
}

// ---------- insights ----------
const SVGNS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const kid of kids.flat()) if (kid) el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return el;
}
const PALETTE = ['#0b57d0', '#b3261e', '#146c2e', '#8a5300', '#6b2fa8', '#00677f', '#9c4146', '#5b6300'];

function perDayChart(ins) {
  const W = 640, H = 220, L = 30, B = 30, T = 10;
  const top = ins.rules.slice(0, PALETTE.length);
  const totals = ins.days.map((_, d) => top.reduce((n, r) => n + (r.by_day[d] || 0), 0));
  const max = Math.max(1, ...totals);
  const bw = (W - L - 10) / ins.days.length;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: '100%', role: 'img', 'aria-label': 'approvals per rule per day' });
  svg.append(s('line', { x1: L, y1: H - B, x2: W, y2: H - B, class: 'axis' }));
  svg.append(s('text', { x: 2, y: T + 8 }, String(max)));
  ins.days.forEach((day, d) => {
    let y = H - B;
    top.forEach((r, i) => {
      const n = r.by_day[d] || 0;
      if (!n) return;
      const hgt = (n / max) * (H - B - T);
      y -= hgt;
      svg.append(s('rect', { x: L + d * bw + 2, y, width: Math.max(1, bw - 4), height: hgt, fill: PALETTE[i] },
        s('title', {}, `${new Date(day).toLocaleDateString()} · ${r.rule}: ${n}`)));
    });
    if (ins.days.length <= 16 || d % 2 === 0) {
      svg.append(s('text', { x: L + d * bw + bw / 2, y: H - B + 14, 'text-anchor': 'middle' },
        new Date(day).toLocaleDateString(undefined, { month: 'numeric', day: 'numeric' })));
    }
  });
  const legend = h('div', { class: 'rules' }, top.map((r, i) => h('span', { class: 'rule', style: null },
    h('span', { 'aria-hidden': 'true', class: `sw${i}` }, '■ '), r.rule)));
  legend.querySelectorAll('[class^=sw]').forEach((el, i) => { el.style.color = PALETTE[i]; });
  return h('div', {}, svg, legend);
}

function ratioChart(ins) {
  const rows = ins.rules.filter((r) => r.approved + r.denied > 0).slice(0, 12);
  const W = 640, RH = 24, L = 200;
  const svg = s('svg', { viewBox: `0 0 ${W} ${Math.max(1, rows.length) * RH + 10}`, width: '100%', role: 'img', 'aria-label': 'approved versus denied per rule' });
  rows.forEach((r, i) => {
    const n = r.approved + r.denied;
    const wa = ((W - L - 60) * r.approved) / n;
    const wd = ((W - L - 60) * r.denied) / n;
    const y = i * RH + 4;
    svg.append(s('text', { x: L - 6, y: y + 14, 'text-anchor': 'end' }, r.rule.length > 30 ? r.rule.slice(0, 29) + '…' : r.rule));
    svg.append(s('rect', { x: L, y, width: Math.max(0, wa), height: RH - 6, fill: '#146c2e' }, s('title', {}, `${r.rule}: ${r.approved} approved`)));
    svg.append(s('rect', { x: L + wa, y, width: Math.max(0, wd), height: RH - 6, fill: '#b3261e' }, s('title', {}, `${r.rule}: ${r.denied} denied`)));
    svg.append(s('text', { x: L + wa + wd + 6, y: y + 14 }, `${Math.round((100 * r.approved) / n)}% ✓`));
  });
  return svg;
}

async function renderInsights() {
  const root = viewRoot('Insights');
  const days = h('select', { id: 'ins-days', 'aria-label': 'window' }, [7, 14, 30, 90].map((d) => h('option', { value: d, selected: d === 14 }, `last ${d} days`)));
  const body = h('div', {});
  root.append(h('div', { class: 'toolbar' }, h('label', { for: 'ins-days' }, 'Window'), days), body);
  const load = async () => {
    let ins;
    try { ins = await api(`/ui/api/insights?days=${days.value}`); } catch (e) { body.replaceChildren(h('p', { class: 'error' }, e.message)); return; }
    const decided = ins.approved + ins.denied;
    body.replaceChildren(
      h('div', { class: 'grid2' },
        h('div', { class: 'panel' }, h('div', { class: 'muted' }, 'Approve / deny'),
          h('div', { class: 'stat' }, decided ? `${Math.round((100 * ins.approved) / decided)}% approved` : '—'),
          h('div', { class: 'hint' }, `${ins.approved} approved · ${ins.denied} denied · ${ins.expired} expired · ${ins.cancelled} cancelled · ${ins.pending} pending`)),
        h('div', { class: 'panel' }, h('div', { class: 'muted' }, 'Median time to decision'),
          h('div', { class: 'stat' }, ins.median_ms == null ? '—' : dur(ins.median_ms)))),
      h('h2', {}, 'Approvals per rule per day'), ins.rules.length ? perDayChart(ins) : h('p', { class: 'muted' }, 'No approvals in this window.'),
      h('h2', {}, 'Approved vs denied per rule'), ratioChart(ins),
      h('div', { class: 'grid2' },
        h('div', { class: 'panel' }, h('h2', {}, 'Candidates to relax'),
          h('p', { class: 'hint' }, 'Approved at least 90% of the time over 5+ decisions: prompts people always accept train them not to read.'),
          ins.relax_candidates.length ? h('ul', {}, ins.relax_candidates.map((r) => h('li', {}, r))) : h('p', { class: 'muted' }, 'None.')),
        h('div', { class: 'panel' }, h('h2', {}, 'Often denied'),
          h('p', { class: 'hint' }, 'Denied at least half the time: maybe the rule should deny outright.'),
          ins.often_denied.length ? h('ul', {}, ins.often_denied.map((r) => h('li', {}, r))) : h('p', { class: 'muted' }, 'None.'))),
      h('h2', {}, 'Per rule'),
      table(['rule', 'asks', 'approved', 'denied', 'expired', 'median time'], ins.rules.map((r) => [r.rule, String(r.total), String(r.approved), String(r.denied), String(r.expired), r.median_ms == null ? '—' : dur(r.median_ms)])));
  };
  days.addEventListener('change', load);
  load();
}

// ---------- policy ----------
async function renderPolicy() {
  const root = viewRoot('Policy');
  let p;
  try { p = await api('/ui/api/policy'); } catch (e) { root.append(h('p', { class: 'error' }, e.message)); return; }
  setLockdown(p.lockdown);
  const info = h('dl', { class: 'kv' });
  const add = (k, v) => { if (v !== undefined && v !== null) info.append(h('dt', {}, k), h('dd', {}, String(v))); };
  add('source', p.source);
  add('default', p.default);
  add('rules in force', p.rules);
  add('approval timeout', dur(p.approval.timeout_secs * 1000));
  add('headless', p.approval.headless);
  add('asks answered via', p.approval.via);
  const lint = p.warnings === undefined ? null : p.warnings.length
    ? h('div', {}, h('span', { class: 'badge bad' }, `${p.warnings.length} warnings`), h('ul', {}, p.warnings.map((w) => h('li', {}, h('code', {}, w)))))
    : h('span', { class: 'badge ok' }, '✓ loads cleanly, no warnings');
  let tests = null;
  if (p.tests && p.tests.total === 0) {
    tests = h('p', { class: 'hint' }, 'The policy has no tests: block; add some and run `gatehouse policy test`.');
  } else if (p.tests) {
    tests = h('p', {}, p.tests.failed.length
      ? h('span', { class: 'badge bad' }, `${p.tests.failed.length} of ${p.tests.total} policy tests fail`)
      : h('span', { class: 'badge ok' }, `✓ ${p.tests.total} policy tests pass`));
  }
  root.append(h('div', { class: 'panel' }, info, lint, tests));
  if (p.text) root.append(h('h2', {}, 'Policy text (read-only)'), h('pre', { class: 'cmd', 'aria-label': 'policy text' }, p.text));
  root.append(h('h2', {}, 'Lockdown'));
  const lockBtn = h('button', { type: 'button', class: p.lockdown ? 'ok' : 'bad', disabled: !p.can_admin,
    onclick: async () => {
      const on = !p.lockdown;
      if (on && !confirm('Turn lockdown on? Every call is denied and every pending approval is denied.')) return;
      try { await api('/ui/api/lockdown', { method: 'POST', body: { on } }); toast(on ? 'Lockdown on' : 'Lockdown lifted'); renderPolicy(); }
      catch (e) { toast(e.message); }
    } }, p.lockdown ? 'Lift lockdown' : 'Turn lockdown on');
  root.append(h('div', { class: 'panel' }, h('p', {}, p.lockdown ? 'Lockdown is ON: every call is denied.' : 'Lockdown is off.'), lockBtn,
    p.can_admin ? null : h('p', { class: 'hint' }, 'Only admins can switch lockdown.')));
  root.append(h('h2', {}, 'Session grants'));
  root.append(p.grants.length ? table(['session', 'tool', 'rules', 'shape', 'by', 'expires', ''], p.grants.map((g) => [
    g.session, g.tool, (g.rules || []).join(', '), g.shape, g.created_by, when(g.expires_at),
    h('button', { type: 'button', class: 'bad', disabled: !p.can_admin, 'aria-label': `revoke grant ${g.id}`,
      onclick: async () => {
        try { await api(`/ui/api/grants/${encodeURIComponent(g.id)}/revoke`, { method: 'POST' }); toast('Grant revoked'); renderPolicy(); }
        catch (e) { toast(e.message); }
      } }, 'Revoke'),
  ])) : h('p', { class: 'muted' }, 'No active grants.'));
}

// ---------- routing ----------
function route() {
  if (!S.csrf) return;
  const hash = location.hash || '#/pending';
  const [, view, arg] = hash.split('/');
  S.view = view || 'pending';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.view === S.view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  if (S.view === 'a' && arg) renderContext(decodeURIComponent(arg));
  else if (S.view === 'history') renderHistory();
  else if (S.view === 'insights') renderInsights();
  else if (S.view === 'policy') renderPolicy();
  else { S.view = 'pending'; renderPending(); }
}

window.addEventListener('hashchange', route);
setInterval(tick, 1000);
document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  boot();
});
