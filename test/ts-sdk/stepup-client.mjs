// Step-up with the MCP TypeScript SDK's v2 client (@modelcontextprotocol/client),
// whose StreamableHTTPClientTransport answers 403 insufficient_scope by
// re-authorizing for the union of the scopes it holds and the challenge's,
// skipping its refresh token when that union is wider (SEP-2350). The 1.x
// SDK refreshes instead and stops ("Server returned 403 after trying
// upscoping"); oauth-client.mjs shows that.
//
// Megan signs in with the challenge's mcp:tools, calls recent_mail, gets
// the 403, signs in again in the same browser: our consent page marks
// mail.read new, the emulator's consent prompt asks for Mail.Read, and the
// retried call returns her mail. The first refresh token is then refused:
// the new sign-in replaced its family.
// Started by handler/ts_sdk_test.go with MCP_URL, EMULATOR_SPKI, CHROMIUM.
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client';
import { chromium } from 'playwright-core';

const env = process.env;
const redirectUrl = 'http://127.0.0.1:45455/oauth/callback';
let passed = 0, failed = 0;
function check(name, cond, detail) {
  if (cond) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name}: ${detail}`); }
}

class Provider {
  constructor() { this.store = {}; this.authorizationUrls = []; }
  get redirectUrl() { return redirectUrl; }
  get clientMetadata() {
    return { client_name: 'TypeScript SDK v2 step-up test', redirect_uris: [redirectUrl], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() { return this.store.client; }
  saveClientInformation(c) { this.store.client = c; }
  tokens() { return this.store.tokens; }
  saveTokens(t) { this.store.tokens = t; }
  redirectToAuthorization(url) { this.authorizationUrls.push(url); }
  saveCodeVerifier(v) { this.store.verifier = v; }
  codeVerifier() { return this.store.verifier; }
  saveDiscoveryState(s) { this.store.discovery = s; }
  discoveryState() { return this.store.discovery; }
}

const browser = await chromium.launch({ executablePath: env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
    '--no-first-run', `--ignore-certificate-errors-spki-list=${env.EMULATOR_SPKI}`] });
// One browser profile for both sign-ins, as a user has.
const context = await browser.newContext();
let landed;
await context.route(u => u.href.startsWith(redirectUrl), route => {
  landed = route.request().url();
  route.fulfill({ status: 200, body: 'ok' });
});

// signIn approves our consent page, picks Megan at the emulator and
// answers its consent prompt if it shows one. It returns the consent
// page's scope list, the permissions Entra prompted for, and the query the
// redirect URI receives.
async function signIn(url) {
  const page = await context.newPage();
  try {
    landed = undefined;
    await page.goto(url.toString());
    await page.waitForSelector('#approve');
    const scopes = await page.$$eval('#scopes li', lis => lis.map(li => ({ scope: li.dataset.scope, isNew: li.dataset.new === 'true', text: li.textContent })));
    const widening = await page.$('#widening') !== null;
    await page.click('#approve');
    await page.click('button[name=user][value="MeganB@contoso.example"]');
    // Either back at the client, or Entra's "Permissions requested" prompt.
    const prompt = await Promise.race([
      page.waitForURL(u => u.href.startsWith(redirectUrl)).then(() => false, () => false),
      page.waitForSelector('#accept').then(() => true, () => false), // the loser rejects when the page closes
    ]);
    let prompted = [];
    if (prompt) {
      prompted = await page.$$eval('#permissions li', lis => lis.map(li => li.dataset.permission));
      await page.click('#accept');
      await page.waitForURL(u => u.href.startsWith(redirectUrl));
    }
    return { scopes, widening, prompted, query: new URL(landed).searchParams };
  } catch (e) {
    throw new Error(`${e.message}\n  at ${page.url()}: ${(await page.textContent('body').catch(() => '')).slice(0, 500)}`);
  } finally {
    await page.close();
  }
}

const provider = new Provider();
const mcpURL = new URL(env.MCP_URL);
const newClient = async () => {
  const transport = new StreamableHTTPClientTransport(mcpURL, { authProvider: provider });
  const client = new Client({ name: 'ts-sdk-v2-stepup-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
};

try {
  // Sign in: the 401 challenge names mcp:tools.
  let transport = new StreamableHTTPClientTransport(mcpURL, { authProvider: provider });
  try {
    await new Client({ name: 'ts-sdk-v2-stepup-test', version: '1.0.0' }).connect(transport);
    check('first connect needs authorization', false, 'connected without a token');
  } catch (e) {
    check('first connect needs authorization', e instanceof UnauthorizedError, String(e));
  }
  const first = provider.authorizationUrls.at(-1);
  // offline_access: the v2 client adds it when the metadata lists it and
  // it is registered for refresh_token (SEP-2207).
  check('the first sign-in asks for the challenge scope', first?.searchParams.get('scope') === 'mcp:tools offline_access', first?.href);
  let s = await signIn(first);
  check('no consent prompt at Entra for mcp:tools (User.Read is admin-consented)', s.prompted.length === 0, JSON.stringify(s.prompted));
  await transport.finishAuth(s.query.get('code'), s.query.get('iss'));
  const before = provider.store.tokens;
  check('tokens for mcp:tools with a refresh token', before?.scope === 'mcp:tools offline_access' && !!before.refresh_token, JSON.stringify(before?.scope));

  let { client } = await newClient();
  const tools = await client.listTools();
  check('tools/list lists every tool', tools.tools.map(t => t.name).sort().join(',') === 'auth_info,recent_mail,whoami', JSON.stringify(tools.tools.map(t => t.name)));
  const me = await client.callTool({ name: 'whoami', arguments: {} });
  check('whoami works with mcp:tools', !me.isError && me.structuredContent?.displayName === 'Megan Bowen', JSON.stringify(me));

  // Step-up: recent_mail needs mail.read. The SDK meets the 403, skips its
  // refresh token (a refresh cannot widen the scope) and sends the user to
  // sign in; the call fails with UnauthorizedError until the host finishes.
  let stepUpError;
  try {
    await client.callTool({ name: 'recent_mail', arguments: { count: 3 } });
  } catch (e) {
    stepUpError = e;
  }
  const second = provider.authorizationUrls.at(-1);
  check('recent_mail without mail.read sends the user to authorize', stepUpError instanceof UnauthorizedError && provider.authorizationUrls.length === 2,
    `${stepUpError}, ${provider.authorizationUrls.length} authorization URLs`);
  check('for the union of its scope and the challenge: mcp:tools mail.read (offline_access kept)',
    new Set(second?.searchParams.get('scope')?.split(' ')).size === 3 && ['mcp:tools', 'mail.read', 'offline_access'].every(x => second.searchParams.get('scope').split(' ').includes(x)),
    second?.searchParams.get('scope'));
  s = await signIn(second);
  const mail = s.scopes.find(x => x.scope === 'mail.read');
  check('the consent page says the app was approved before and marks mail.read, only it, new',
    s.widening && mail?.isNew && mail.text.includes('read your mail through Microsoft Graph (Mail.Read)') && s.scopes.filter(x => x.isNew).length === 1,
    JSON.stringify(s));
  check("Entra's consent prompt asks for Mail.Read", s.prompted.join(',') === 'Mail.Read', JSON.stringify(s.prompted));
  await transport.finishAuth(s.query.get('code'), s.query.get('iss'));
  check('the new tokens carry mail.read', provider.store.tokens?.scope === 'mail.read mcp:tools offline_access', provider.store.tokens?.scope);

  ({ client } = await newClient());
  const msgs = await client.callTool({ name: 'recent_mail', arguments: { count: 3 } });
  check("recent_mail returns Megan's mail", !msgs.isError && msgs.structuredContent?.messages?.length === 3 &&
    msgs.structuredContent.messages[0].subject === 'Re: Quarterly retail review', JSON.stringify(msgs));

  // An error result has text only, no structuredContent: the SDK validates
  // structuredContent against the output schema whenever it is present.
  const bad = await client.callTool({ name: 'recent_mail', arguments: { count: 500 } });
  check('recent_mail with count out of bounds is a tool error the SDK accepts', bad.isError === true && bad.structuredContent === undefined, JSON.stringify(bad));

  const old = await fetch(new URL('/token', mcpURL), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: before.refresh_token, client_id: provider.store.client.client_id }) });
  const oldBody = await old.json();
  check('the refresh token from before the step-up is refused: its family was replaced', old.status === 400 && oldBody.error === 'invalid_grant', JSON.stringify(oldBody));
  await client.close();
} catch (e) {
  check('step-up ran to the end', false, e?.stack || String(e));
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
