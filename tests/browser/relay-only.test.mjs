// Relay-only meetings in the web app, in Debian Chromium, through the UI:
// the "Hide my IP address from the others" checkbox at creation, the
// refusal of a server without a TURN relay in words a person understands,
// and the "IP addresses hidden" badge in the lobby and the meeting of a
// relay-only one. (Calls that really go through coturn are the network
// lab's: tests/network.)
//
//   node --test --test-concurrency=1 tests/browser/relay-only.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, launchChromium, newChromiumParticipant, joinViaUi, clickButton, buttonVisible, waitForVisibleText,
  waitFor, tempDir, cleanup, screenshot,
} from './harness.mjs';

const TEST = { timeout: 60000 };
const CHECKBOX = 'Hide my IP address from the others';

/** The badge's text if it is shown, else null. */
function badge(p) {
  return p.page.evaluate(() => {
    const el = document.getElementById('relay-badge');
    return el && el.checkVisibility() ? el.textContent : null;
  });
}

describe('relay-only meetings in the app (Chromium)', () => {
  let browser;
  let plain;    // no TURN configured
  let relaying; // TURN configured (nobody listens there: only creation and joining are tested)

  before(async () => {
    const secret = join(tempDir('meshmeet-turn-'), 'secret');
    writeFileSync(secret, 'browser-test-secret\n');
    plain = await startServer();
    relaying = await startServer(['--turn-url', 'turn:127.0.0.1:3478?transport=udp', '--turn-secret-file', secret]);
    browser = await launchChromium();
  });
  after(cleanup);

  it('a server without a relay refuses "Hide my IP address" in plain words, and creates the meeting without it', TEST, async () => {
    const p = await newChromiumParticipant(browser, 'Creator');
    await p.page.goto(plain.url);
    const box = p.page.getByLabel(CHECKBOX, { exact: true });
    assert.equal(await box.isChecked(), false, 'off by default');
    await box.check();
    await clickButton(p, 'New meeting');
    await waitForVisibleText(p, 'This server cannot hide IP addresses (no relay server configured)');
    assert.equal(new URL(p.page.url()).pathname, '/', 'still on the home page');

    await box.uncheck();
    await clickButton(p, 'New meeting');
    await waitFor(() => buttonVisible(p, 'Join'), 10000, 'the lobby of the new meeting');
    assert.equal(await badge(p), null, 'an ordinary meeting shows no badge');
    await p.close();
  });

  it('the checkbox and the refusal in Simplified Chinese', TEST, async () => {
    const p = await newChromiumParticipant(browser, 'Lin', { context: { locale: 'zh-CN' } });
    await p.page.goto(plain.url);
    await waitForVisibleText(p, '向其他人隐藏我的 IP 地址');
    await p.page.getByLabel('向其他人隐藏我的 IP 地址', { exact: true }).check();  // accessible names follow the language
    await clickButton(p, '新建会议');
    await waitForVisibleText(p, '此服务器无法隐藏 IP 地址（未配置中继服务器）。');
    await p.close();
  });

  it('a relay-only meeting says so in the lobby and in the meeting', TEST, async () => {
    const p = await newChromiumParticipant(browser, 'Ann');
    await p.page.goto(relaying.url);
    await p.page.getByLabel(CHECKBOX, { exact: true }).check();
    await clickButton(p, 'New meeting');
    await waitFor(() => buttonVisible(p, 'Join'), 10000, 'the lobby of the new meeting');
    assert.equal(await badge(p), 'IP addresses hidden', 'the lobby (from GET /api/meetings/ID)');
    await joinViaUi(p, null, 'Ann');
    // In the meeting the badge follows what this client enforces (welcome.relayOnly).
    await waitFor(async () => (await badge(p)) === 'IP addresses hidden', 10000, 'the badge in the meeting');
    await screenshot(p, 'relay-only.png');
    await clickButton(p, 'Leave');
    await waitForVisibleText(p, 'You left the meeting');
    assert.equal(await badge(p), null, 'gone with the meeting');
    await p.close();
  });
});
