// Signs in to the local stack as a test user, the way a real client does
// (the MCP TypeScript SDK's OAuth client; chromium for the consent page and
// the emulator's sign-in), and prints the access token. For the load test.
// Env: MCP_URL, EMULATOR_SPKI, CHROMIUM.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { chromium } from 'playwright-core';

const redirectUrl = 'http://127.0.0.1:45455/cb';
const provider = {
  store: {},
  get redirectUrl() { return redirectUrl; },
  get clientMetadata() { return { client_name: 'load test', redirect_uris: [redirectUrl], token_endpoint_auth_method: 'none' }; },
  clientInformation() { return this.store.client; },
  saveClientInformation(c) { this.store.client = c; },
  tokens() { return this.store.tokens; },
  saveTokens(t) { this.store.tokens = t; },
  redirectToAuthorization(u) { this.authorizationUrl = u; },
  saveCodeVerifier(v) { this.store.verifier = v; },
  codeVerifier() { return this.store.verifier; },
};
const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), { authProvider: provider });
try { await new Client({ name: 'load-test', version: '1' }).connect(transport); } catch { /* 401: sign in below */ }
if (!provider.authorizationUrl) throw new Error('the server did not ask for authorization');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    `--ignore-certificate-errors-spki-list=${process.env.EMULATOR_SPKI}`] });
let landed;
try {
  const context = await browser.newContext();
  await context.route(u => u.href.startsWith(redirectUrl), r => { landed = r.request().url(); r.fulfill({ body: 'ok' }); });
  const page = await context.newPage();
  await page.goto(provider.authorizationUrl.toString());
  await page.click('#approve');
  await page.click('button[name=user][value="AdeleV@contoso.example"]');
  await page.waitForURL(u => u.href.startsWith(redirectUrl));
} finally {
  await browser.close();
}
await transport.finishAuth(new URL(landed).searchParams.get('code'));
console.log(provider.store.tokens.access_token);
