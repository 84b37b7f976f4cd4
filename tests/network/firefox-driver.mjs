// One Firefox ESR participant, run by the lab inside a home's namespace:
//
//   ip netns exec HOME node tests/network/firefox-driver.mjs
//
// Firefox is driven over WebDriver BiDi on a loopback port, and the home's
// loopback is not the test's: so the driver runs in the home with Firefox and
// the test talks to it over stdin/stdout, one JSON object per line.
//   → {"id":1,"op":"goto","url":…}          ← {"id":1,"ok":true}
//   → {"id":2,"op":"evaluate","expression":…} ← {"id":2,"ok":true,"value":…}
//   → {"id":3,"op":"join","url":…,"name":…}   (types the name, clicks Join, waits for Leave)
//   → {"id":4,"op":"close"}
// Console lines of the page come as {"console": text}.

import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { FIREFOX_FAKE_MEDIA_PREFS } from '../support/firefox.mjs';

const { FIREFOX_BIN = '/usr/bin/firefox-esr', LAB_ORIGIN_HOST, LAB_INIT_SCRIPT = '' } = process.env;
const profile = mkdtempSync(join(tmpdir(), 'meshmeet-lab-firefox-'));
const send = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath: FIREFOX_BIN,
  headless: true,
  userDataDir: profile,
  extraPrefsFirefox: {
    ...FIREFOX_FAKE_MEDIA_PREFS,
    // The lab's server is plain http on a lab address: make it a secure context.
    'dom.securecontext.allowlist': LAB_ORIGIN_HOST ?? '',
    'media.devices.insecure.enabled': true,
    'media.getusermedia.insecure.enabled': true,
  },
  timeout: 30000,
});
const page = await browser.newPage();
page.setDefaultTimeout(15000);
await page.setViewport({ width: 800, height: 600 }).catch(() => {});
if (LAB_INIT_SCRIPT) await page.evaluateOnNewDocument(LAB_INIT_SCRIPT);
page.on('console', (msg) => send({ console: msg.text() }));
page.on('pageerror', (e) => send({ console: `pageerror: ${e?.message ?? e}` }));

async function close() {
  await browser.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}

const ops = {
  goto: ({ url }) => page.goto(url).then(() => undefined),
  evaluate: ({ expression }) => page.evaluate(expression),
  async join({ url, name }) {
    await page.goto(url);
    const field = await page.locator('::-p-aria([name="Your name"])').setTimeout(15000).waitHandle();
    await field.click({ clickCount: 3 });
    await field.type(name);
    await page.locator('::-p-aria([name="Join"][role="button"])').setTimeout(15000).click();
    await page.locator('::-p-aria([name="Leave"][role="button"])').setTimeout(20000).wait();
  },
  async close() {
    await close();
    setImmediate(() => process.exit(0));
  },
};

createInterface({ input: process.stdin }).on('line', async (line) => {
  let request;
  try {
    request = JSON.parse(line);
    const value = await ops[request.op](request);
    send({ id: request.id, ok: true, value });
  } catch (e) {
    send({ id: request?.id, ok: false, error: String(e?.message ?? e) });
  }
});
process.stdin.on('end', async () => {
  await close();
  process.exit(0);
});
send({ ready: true });
