// End-to-end tests of the dashboard in headless Chromium.
//
// A real `gatehouse serve --listen 127.0.0.1:0` in a temporary GATEHOUSE_HOME,
// a real user enrolled with `gatehouse user add`, real `gatehouse hook
// claude-code` processes holding calls; the browser logs in with a TOTP code
// computed here from the secret `user add` printed.
//
// GATEHOUSE_BIN: the binary (default: <repo>/target/debug/gatehouse).
// CHROMIUM: the browser (default: /usr/bin/chromium). Outside CI a missing
// browser skips loudly; under CI=true it fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '..', '..');
const BIN = process.env.GATEHOUSE_BIN || join(process.env.CARGO_TARGET_DIR || join(REPO, 'target'), 'debug', 'gatehouse');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = join(REPO, 'artifacts', 'screenshots');
const CI = process.env.CI === 'true';

const POLICY = `version: 1
default: allow
rules:
  - name: deploys
    match:
      tool: exec
      command: ["kubectl apply *"]
    action: ask
    via: gateway
    message: Production deployment requires approval
`;

const missing = [!existsSync(CHROMIUM) && `chromium (${CHROMIUM})`, !existsSync(BIN) && `gatehouse binary (${BIN})`].filter(Boolean);
if (missing.length) {
  const msg = `dashboard browser tests need ${missing.join(' and ')}`;
  if (CI) throw new Error(`${msg}; under CI=true they must run`);
  console.warn(`\n*** SKIPPING: ${msg} ***\n`);
}
const opts = { skip: missing.length > 0 && 'missing chromium or binary' };

// ---------- TOTP (RFC 6238, SHA-1, 6 digits, 30 s) ----------
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text.replace(/=+$/, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

function totp(secret, ms = Date.now()) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(ms / 1000 / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const off = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

// ---------- the daemon and the CLI ----------
let home, daemon, url, browser, context, page;
const users = {};

function env(extra = {}) {
  const e = { ...process.env, GATEHOUSE_HOME: home, GATEHOUSE_POLICY: join(home, 'policy.yaml'), ...extra };
  delete e.GATEHOUSE_URL; delete e.GATEHOUSE_TOKEN; delete e.GATEHOUSE_SESSION;
  return e;
}

function addUser(name, role, password) {
  const r = spawnSync(BIN, ['user', 'add', name, '--role', role, '--password-stdin'], { env: env(), input: password + '\n', encoding: 'utf8' });
  assert.equal(r.status, 0, `user add failed: ${r.stderr}`);
  const m = /otpauth:\/\/totp\/\S*secret=([A-Z2-7]+)/.exec(r.stdout);
  assert.ok(m, `no enrolment URI in ${r.stdout}`);
  assert.match(r.stdout, /[█▀▄]/, 'a QR code is printed');
  users[name] = { password, secret: m[1] };
  return users[name];
}

async function startDaemon() {
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0'], { env: env(), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const info = join(home, 'daemon.json');
  for (let i = 0; i < 500; i++) {
    try {
      const v = JSON.parse(readFileSync(info, 'utf8'));
      if (v.pid === child.pid) return { child, url: v.url };
    } catch (_) { /* not yet */ }
    if (child.exitCode !== null) throw new Error(`serve exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`daemon did not start: ${stderr}`);
}

// A Claude Code PreToolUse hook holding `command`; resolves to its parsed answer.
function hook(command, session = 'app/main') {
  const child = spawn(BIN, ['hook', 'claude-code', '--deadline-secs', '60'], {
    env: env({ GATEHOUSE_SESSION: session }), stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '', err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  child.stdin.end(JSON.stringify({
    session_id: session, transcript_path: '/tmp/t.jsonl', cwd: '/srv/app', permission_mode: 'default',
    hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_input: { command }, tool_use_id: 'toolu_1',
  }));
  return new Promise((resolveP, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      try {
        const h = JSON.parse(out).hookSpecificOutput;
        resolveP({ decision: h.permissionDecision, reason: h.permissionDecisionReason || '', raw: out });
      } catch (e) { reject(new Error(`hook printed no JSON: ${out} ${err}`)); }
    });
  });
}

async function shot(p, name) {
  mkdirSync(SHOTS, { recursive: true });
  await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function login(p, name, code) {
  const u = users[name];
  await p.goto(url + '/');
  await p.getByLabel('User name').fill(name);
  await p.getByLabel('Password').fill(u.password);
  await p.getByLabel('Code from your authenticator app').fill(code ?? totp(u.secret));
  await p.getByRole('button', { name: 'Sign in' }).click();
}

// The CSRF-protected JSON API as a page would call it, minus whatever `headers` leave out.
function post(p, path, body, headers) {
  return p.evaluate(async ([path, body, headers]) => {
    const r = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: r.status, body: await r.text() };
  }, [path, body, headers]);
}

before(async () => {
  if (opts.skip) return;
  home = mkdtempSync(join(tmpdir(), 'gatehouse-browser-'));
  writeFileSync(join(home, 'policy.yaml'), POLICY);
  addUser('alice', 'admin', 'correct horse battery staple');
  addUser('bob', 'approver', 'another long passphrase');
  addUser('mallory', 'approver', 'mallory long password');
  ({ child: daemon, url } = await startDaemon());
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1200, height: 850 } });
  page = await context.newPage();
});

after(async () => {
  if (browser) await browser.close();
  if (daemon) daemon.kill('SIGTERM');
  if (home) rmSync(home, { recursive: true, force: true });
});

test('a wrong TOTP code is refused and the page stays on the login form', opts, async () => {
  const p = await browser.newPage();
  const right = totp(users.bob.secret);
  const wrong = right === '123456' ? '654321' : '123456';
  await login(p, 'bob', wrong);
  await p.getByText('wrong user name, password or code').waitFor();
  assert.equal(await p.locator('#nav').isHidden(), true, 'not signed in');
  await shot(p, 'login-refused');
  // A wrong password with the right code is refused the same way.
  await p.getByLabel('Password').fill('not the password');
  await p.getByLabel('Code from your authenticator app').fill(right);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByText('wrong user name, password or code').waitFor();
  assert.equal(await p.locator('#nav').isHidden(), true);
  await p.close();
});

test('login with password and TOTP opens the live queue', opts, async () => {
  await page.goto(url + '/');
  await page.getByLabel('User name').waitFor();
  await shot(page, 'login');
  await login(page, 'alice');
  await page.getByRole('heading', { name: 'Pending approvals' }).waitFor();
  assert.match(await page.locator('#user').textContent(), /alice \(admin\)/);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === 'gh_session');
  assert.ok(session, 'session cookie set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  await page.getByText('Nothing is waiting for a decision').waitFor();
});

test('a held call appears live and approving it releases the hook', opts, async () => {
  await page.evaluate(() => { window.__noReload = true; });
  const held = hook('kubectl apply -f prod.yaml');
  const item = page.locator('.item', { hasText: 'kubectl apply -f prod.yaml' });
  await item.waitFor({ timeout: 15000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'arrived without a reload');
  await item.getByText('deploys').waitFor();
  await item.getByText('Production deployment requires approval').waitFor();
  assert.match(await item.locator('.countdown').textContent(), /expires in/);
  await shot(page, 'pending');
  // The keyboard path: select with j/k, approve with a.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('k');
  await page.keyboard.press('a');
  const answer = await held;
  assert.equal(answer.decision, 'allow', answer.raw);
  await page.getByText('Nothing is waiting for a decision').waitFor();
});

test('deny with a reason reaches the hook output', opts, async () => {
  const held = hook('kubectl apply -f staging.yaml', 'app/feature');
  const item = page.locator('.item', { hasText: 'kubectl apply -f staging.yaml' });
  await item.waitFor({ timeout: 15000 });
  // The keyboard path: d puts the focus in the reason, Enter denies.
  await page.locator('#view-title').click();
  await page.keyboard.press('d');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.reason), await item.getAttribute('data-approval'));
  await page.keyboard.type('use the staging cluster via CI');
  await page.keyboard.press('Enter');
  const answer = await held;
  assert.equal(answer.decision, 'deny', answer.raw);
  assert.match(answer.reason, /use the staging cluster via CI/);
});

test('the context view shows analysis, similar past decisions and session history', opts, async () => {
  const held = hook('kubectl apply -f prod.yaml && echo done');
  const item = page.locator('.item', { hasText: 'echo done' });
  await item.waitFor({ timeout: 15000 });
  await item.getByRole('link', { name: 'Context' }).click();
  await page.getByRole('heading', { name: 'Commands the shell analysis found' }).waitFor();
  await page.getByText('"kubectl" "apply" "-f" "prod.yaml"').waitFor();
  const similar = page.locator('section table').first();
  await similar.getByText('approved by alice').waitFor();
  await page.getByRole('heading', { name: 'Recent decisions in this session' }).waitFor();
  await shot(page, 'context');
  await page.getByRole('button', { name: 'Approve', exact: true }).click();
  const answer = await held;
  assert.equal(answer.decision, 'allow', answer.raw);
});

test('state-changing requests without the CSRF token are refused', opts, async () => {
  const held = hook('kubectl apply -f csrf.yaml');
  const item = page.locator('.item', { hasText: 'csrf.yaml' });
  await page.goto(url + '/#/pending');
  await item.waitFor({ timeout: 15000 });
  const id = await item.getAttribute('data-approval');
  const noToken = await post(page, `/ui/api/approvals/${id}/approve`, {}, {});
  assert.equal(noToken.status, 403, noToken.body);
  const wrongToken = await post(page, `/ui/api/approvals/${id}/approve`, {}, { 'X-CSRF-Token': 'f'.repeat(64) });
  assert.equal(wrongToken.status, 403, wrongToken.body);
  const lockdown = await post(page, '/ui/api/lockdown', { on: true }, {});
  assert.equal(lockdown.status, 403, lockdown.body);
  const loginNoToken = await post(page, '/ui/api/login', { user: 'alice', password: 'x', code: '000000' }, {});
  assert.equal(loginNoToken.status, 403, loginNoToken.body);
  // Still pending: nothing got through.
  await item.waitFor();
  const csrf = await page.evaluate(async () => (await (await fetch('/ui/api/me')).json()).csrf);
  const withToken = await post(page, `/ui/api/approvals/${id}/deny`, { reason: 'checked the token path' }, { 'X-CSRF-Token': csrf });
  assert.equal(withToken.status, 200, withToken.body);
  const answer = await held;
  assert.equal(answer.decision, 'deny');
});

test('resolutions are audited with channel dashboard and the user, and the chain verifies', opts, async () => {
  await page.goto(url + '/#/history');
  await page.getByText(/chain intact/).waitFor();
  const history = await page.evaluate(async () => (await (await fetch('/ui/api/history?limit=500')).json()).entries);
  const resolutions = history.map((e) => e.record).filter((r) => r.kind === 'resolution');
  assert.ok(resolutions.some((r) => r.outcome === 'approved' && r.actor === 'alice' && r.channel === 'dashboard'), JSON.stringify(resolutions));
  assert.ok(resolutions.some((r) => r.outcome === 'denied' && r.reason === 'use the staging cluster via CI' && r.channel === 'dashboard'));
  await page.getByLabel('Decision').selectOption('deny');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByText(/records, newest first/).waitFor();
  await shot(page, 'history');
});

test('approve for session grants the same call, and an admin revokes the grant', opts, async () => {
  await page.goto(url + '/#/pending');
  const held = hook('kubectl apply -f grant.yaml', 'app/grant');
  const item = page.locator('.item', { hasText: 'grant.yaml' });
  await item.waitFor({ timeout: 15000 });
  await item.getByLabel('grant duration').selectOption('8h');
  await item.getByRole('button', { name: 'Approve for session' }).click();
  assert.equal((await held).decision, 'allow');
  // The same call in the same session now passes without asking anyone.
  const again = await hook('kubectl apply -f grant.yaml', 'app/grant');
  assert.equal(again.decision, 'allow', again.raw);
  await page.goto(url + '/#/policy');
  const row = page.locator('tr', { hasText: 'app/grant' });
  await row.waitFor();
  await shot(page, 'policy');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByText('No active grants.').waitFor();
  // Revoked: the next identical call is held again (and denied here to release it).
  const third = hook('kubectl apply -f grant.yaml', 'app/grant');
  await page.goto(url + '/#/pending');
  const held3 = page.locator('.item', { hasText: 'grant.yaml' });
  await held3.waitFor({ timeout: 15000 });
  await held3.getByLabel('Reason').fill('grant was revoked');
  await held3.getByRole('button', { name: 'Deny' }).click();
  assert.equal((await third).decision, 'deny');
});

test('insights and policy pages render their charts and controls', opts, async () => {
  await page.goto(url + '/#/insights');
  await page.getByRole('heading', { name: 'Approvals per rule per day' }).waitFor();
  assert.ok(await page.locator('svg rect').count() > 0, 'bars drawn');
  await page.getByText(/% approved/).waitFor();
  await shot(page, 'insights');
  await page.goto(url + '/#/policy');
  await page.getByRole('heading', { name: 'Session grants' }).waitFor();
  await page.getByRole('button', { name: 'Turn lockdown on' }).waitFor();
  await page.getByText('loads cleanly, no warnings').waitFor();
});

test('a phone-sized screen shows the queue without horizontal scrolling', opts, async () => {
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  const held = hook('kubectl apply -f ' + 'very/long/path/'.repeat(30) + 'prod.yaml');
  await phone.goto(url + '/#/pending');
  const item = phone.locator('.item', { hasText: 'kubectl' });
  await item.waitFor({ timeout: 15000 });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await item.locator('summary').waitFor(); // the long command is folded
  await shot(phone, 'pending-phone');
  await item.getByLabel('Reason').fill('too long to review on a phone');
  await item.getByRole('button', { name: 'Deny' }).click();
  assert.equal((await held).decision, 'deny');
  await phone.close();
});

test('first paint of the dashboard on loopback (reported, see artifacts/perf.json)', opts, async () => {
  const samples = [];
  for (let i = 0; i < 5; i++) {
    const p = await context.newPage();
    await p.goto(url + '/', { waitUntil: 'load' });
    const fcp = await p.evaluate(() => new Promise((done) => {
      new PerformanceObserver((list) => {
        const e = list.getEntriesByName('first-contentful-paint')[0];
        if (e) done(e.startTime);
      }).observe({ type: 'paint', buffered: true });
      setTimeout(() => done(null), 3000);
    }));
    if (fcp !== null) samples.push(fcp);
    await p.close();
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)];
  mkdirSync(join(REPO, 'artifacts'), { recursive: true });
  writeFileSync(join(REPO, 'artifacts', 'perf.json'), JSON.stringify({ first_contentful_paint_ms: samples, median }, null, 2));
  console.log(`first contentful paint on loopback: median ${median?.toFixed(1)} ms of ${samples.map((s) => s.toFixed(1)).join(', ')}`);
  assert.ok(samples.length > 0, 'the browser reported a paint');
});

test('failed logins are rate-limited per user and address', opts, async () => {
  const start = await fetch(url + '/ui/api/login');
  const cookie = start.headers.get('set-cookie').split(';')[0];
  const { csrf } = await start.json();
  const attempt = () => fetch(url + '/ui/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, Cookie: cookie },
    body: JSON.stringify({ user: 'mallory', password: 'guess', code: '000000' }),
  });
  for (let i = 0; i < 5; i++) assert.equal((await attempt()).status, 401, `attempt ${i + 1}`);
  const limited = await attempt();
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  // Even the right password and code are refused while locked out.
  const right = await fetch(url + '/ui/api/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, Cookie: cookie },
    body: JSON.stringify({ user: 'mallory', password: users.mallory.password, code: totp(users.mallory.secret) }),
  });
  assert.equal(right.status, 429);
});
