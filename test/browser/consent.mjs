// Drives the consent page in a real browser (Debian's chromium through
// playwright-core). Started by handler/browser_consent_test.go, which runs
// the stack and passes everything in the environment:
//   BASE_URL, AUTHORIZE_URL (approve run), AUTHORIZE_URL_DENY,
//   REDIRECT_URI, EMULATOR_SPKI (pin for the emulator's self-signed cert),
//   ARTIFACTS_DIR (screenshots).
// Prints "N passed, N failed" and exits non-zero on any failure.
import { chromium } from 'playwright-core';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const env = process.env;
const artifacts = env.ARTIFACTS_DIR || '.';
mkdirSync(artifacts, { recursive: true });
let passed = 0, failed = 0;
async function check(name, fn) {
  try { await fn(); passed++; console.log(`ok   ${name}`); }
  catch (e) { failed++; console.log(`FAIL ${name}: ${e.message}`); }
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync',
    // Trust exactly the emulator's certificate, nothing else.
    `--ignore-certificate-errors-spki-list=${env.EMULATOR_SPKI}`],
});

// newContext returns a fresh browser profile whose navigations to the MCP
// client's redirect URI are answered here (nothing listens there) and
// recorded.
async function newContext() {
  const context = await browser.newContext();
  const landed = [];
  await context.route(u => u.href.startsWith(env.REDIRECT_URI), route => {
    landed.push(route.request().url());
    route.fulfill({ status: 200, contentType: 'text/html', body: '<p>client callback</p>' });
  });
  return { context, landed };
}

try {
  await check('approve: consent page, Entra sign-in, code back to the client', async () => {
    const { context, landed } = await newContext();
    const page = await context.newPage();
    const resp = await page.goto(env.AUTHORIZE_URL);
    assert(page.url().startsWith(env.BASE_URL + '/consent?'), `landed on ${page.url()}`);
    const h = resp.headers();
    assert(/frame-ancestors 'none'/.test(h['content-security-policy'] || ''), `CSP: ${h['content-security-policy']}`);
    assert(h['x-frame-options'] === 'DENY', `X-Frame-Options: ${h['x-frame-options']}`);
    assert(h['cache-control'] === 'no-store', `Cache-Control: ${h['cache-control']}`);
    assert((await page.textContent('#client-name')) === 'Browser Test Client', 'client name not shown');
    assert((await page.textContent('#redirect-host')) === new URL(env.REDIRECT_URI).host, 'redirect host not shown');
    assert((await page.textContent('#scopes')).includes('mcp:tools'), 'scopes not listed');
    writeFileSync(join(artifacts, 'consent-page.png'), await page.screenshot({ fullPage: true }));
    await page.click('#approve');
    await page.waitForSelector('button[name=user]');
    writeFileSync(join(artifacts, 'emulator-sign-in.png'), await page.screenshot({ fullPage: true }));
    await page.click('button[name=user][value="AdeleV@contoso.example"]');
    await page.waitForURL(u => u.href.startsWith(env.REDIRECT_URI));
    const q = new URL(landed[0]).searchParams;
    assert(q.get('code') && q.get('state') === 'browser-approve' && q.get('iss') === env.BASE_URL, `callback ${landed[0]}`);
    const cookies = await context.cookies(env.BASE_URL);
    for (const c of cookies) assert(c.httpOnly, `cookie ${c.name} is not HttpOnly`);
    await context.close();
  });

  await check('deny: access_denied goes back to the client with state and iss', async () => {
    const { context, landed } = await newContext();
    const page = await context.newPage();
    await page.goto(env.AUTHORIZE_URL_DENY);
    await page.click('#deny');
    await page.waitForURL(u => u.href.startsWith(env.REDIRECT_URI));
    const q = new URL(landed[0]).searchParams;
    assert(q.get('error') === 'access_denied' && q.get('state') === 'browser-deny' && q.get('iss') === env.BASE_URL, `callback ${landed[0]}`);
    assert(!q.get('code'), 'a code came back after Deny');
    await context.close();
  });

  await check('a POST without the CSRF token is refused', async () => {
    const { context } = await newContext();
    const page = await context.newPage();
    await page.goto(env.AUTHORIZE_URL_DENY.replace('browser-deny', 'browser-csrf'));
    const request = await page.inputValue('input[name=request]');
    // Same browser profile (its cookies, including the CSRF cookie, go
    // along), same origin, but no csrf_token field. The page's own CSP
    // forbids fetch(), so the request goes through the context's API.
    const post = async (form) => (await context.request.post(env.BASE_URL + '/consent', {
      form, maxRedirects: 0, headers: { Origin: env.BASE_URL } })).status();
    const status = await post({ request, decision: 'approve' });
    assert(status === 403, `status ${status}`);
    const forged = await post({ request, decision: 'approve', csrf_token: 'forged' });
    assert(forged === 403, `forged token status ${forged}`);
    await context.close();
  });

  await check('the consent page refuses to render in a frame', async () => {
    const { context } = await newContext();
    const page = await context.newPage();
    await page.goto(env.AUTHORIZE_URL_DENY.replace('browser-deny', 'browser-frame'));
    const consentURL = page.url();
    const attacker = await context.newPage();
    await attacker.setContent(`<iframe id="f" src="${consentURL}" width="600" height="400"></iframe>`);
    await attacker.waitForTimeout(1500);
    const frame = attacker.frames().find(f => f !== attacker.mainFrame());
    const approve = frame ? await frame.$('#approve').catch(() => null) : null;
    assert(!approve, 'the Approve button rendered inside a frame');
    writeFileSync(join(artifacts, 'consent-framed.png'), await attacker.screenshot());
    await context.close();
  });
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
