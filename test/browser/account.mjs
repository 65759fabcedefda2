// Drives the connected-apps page (/account) in a real browser (Debian's
// chromium through playwright-core). Started by handler/flow_account_test.go
// (TestAccountPageInBrowser), which runs the stack, signs USER_UPN in to two
// apps, and passes everything in the environment:
//   BASE_URL, EMULATOR_URL, EMULATOR_SPKI (pin for the emulator's
//   self-signed cert), USER_UPN, REVOKE_APP (the app to revoke), KEEP_APP
//   (the app that stays), ARTIFACTS_DIR (screenshots).
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
    `--ignore-certificate-errors-spki-list=${env.EMULATOR_SPKI}`],
});

const appNames = async page => page.$$eval('.app .app-name', els => els.map(e => e.textContent.trim()));

try {
  const context = await browser.newContext();
  const page = await context.newPage();

  await check('sign in through Entra and see exactly your apps', async () => {
    await page.goto(env.BASE_URL + '/account');
    assert(page.url().startsWith(env.EMULATOR_URL), `not sent to Entra: ${page.url()}`);
    await page.click(`button[name=user][value="${env.USER_UPN}"]`);
    await page.waitForURL(u => u.href === env.BASE_URL + '/account');
    const names = await appNames(page);
    assert(names.length === 2 && names.includes(env.REVOKE_APP) && names.includes(env.KEEP_APP), `apps: ${JSON.stringify(names)}`);
    assert((await page.textContent('.app .redirect-host')) === '127.0.0.1:53682', 'redirect host not shown');
    assert((await page.textContent('.app')).includes('mcp:tools'), 'scopes not shown');
    const cookies = await context.cookies(env.BASE_URL);
    const session = cookies.find(c => c.name.endsWith('mcp-account'));
    assert(session && session.httpOnly && session.sameSite === 'Lax', `session cookie: ${JSON.stringify(session)}`);
    assert(session.expires > 0 && session.expires - Date.now() / 1000 <= 15 * 60 + 5, `session lasts until ${session.expires}`);
    writeFileSync(join(artifacts, 'account-page.png'), await page.screenshot({ fullPage: true }));
  });

  await check('the page sends its headers and refuses to render in a frame', async () => {
    const resp = await page.goto(env.BASE_URL + '/account');
    const h = resp.headers();
    assert(/frame-ancestors 'none'/.test(h['content-security-policy'] || ''), `CSP: ${h['content-security-policy']}`);
    assert(/form-action 'self'/.test(h['content-security-policy'] || ''), `CSP: ${h['content-security-policy']}`);
    assert(h['cache-control'] === 'no-store', `Cache-Control: ${h['cache-control']}`);
    const attacker = await context.newPage();
    await attacker.setContent(`<iframe src="${env.BASE_URL}/account" width="600" height="400"></iframe>`);
    await attacker.waitForTimeout(1500);
    const frame = attacker.frames().find(f => f !== attacker.mainFrame());
    const button = frame ? await frame.$('button.revoke').catch(() => null) : null;
    assert(!button, 'the Revoke button rendered inside a frame');
    await attacker.close();
  });

  await check('a cross-site form cannot revoke', async () => {
    const ref = await page.getAttribute('.app input[name=grant]', 'value');
    const resp = await context.request.post(env.BASE_URL + '/account/revoke', {
      form: { grant: ref, csrf_token: 'forged' }, maxRedirects: 0, headers: { Origin: env.BASE_URL } });
    assert(resp.status() === 403, `forged token: ${resp.status()}`);
    assert((await appNames(page)).length === 2, 'an app went away');
  });

  await check('revoke one app: it is gone, the other stays', async () => {
    await page.goto(env.BASE_URL + '/account');
    const section = page.locator('.app', { hasText: env.REVOKE_APP });
    await section.locator('button.revoke').click();
    await page.waitForSelector('#revoked');
    const names = await appNames(page);
    assert(names.length === 1 && names[0] === env.KEEP_APP, `apps after revoking: ${JSON.stringify(names)}`);
    writeFileSync(join(artifacts, 'account-revoked.png'), await page.screenshot({ fullPage: true }));
  });
  await context.close();
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
