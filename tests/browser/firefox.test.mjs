// Interop: one participant in Firefox ESR (puppeteer-core over WebDriver
// BiDi, fake camera and microphone) and two in Debian Chromium. Firefox
// creates the meeting from the home page; everyone joins through the UI;
// video decodes both ways, chat crosses, a Chromium page's shared screen is
// shown on Firefox (pinned, whole, playing: headless Firefox cannot capture
// a screen itself), and the verification exchange gives the same code at
// both ends of each Firefox–Chromium pair.
//
//   node --test --test-concurrency=1 tests/browser/firefox.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  startServer, launchChromium, launchFirefox, newChromiumParticipant, newFirefoxParticipant, joinViaUi,
  clickButton, fillLabelled, buttonVisible, waitForVisibleText, waitForDecoding, decodingDiagnostics,
  saveLogs, remoteTiles, waitFor, cleanup, FIREFOX, shownVerificationCode,
} from './harness.mjs';

const TEST = { timeout: 120000 };
/** A fresh mesh must show video everywhere within this long after the last "Join". */
const CONNECT_MS = 10000;

describe('Firefox ESR and Chromium in one meeting', () => {
  let srv;
  let fox;
  const people = [];  // Fox (Firefox), then Chrome 1 and Chrome 2

  before(async () => {
    assert.ok(existsSync(FIREFOX), `Firefox ESR at ${FIREFOX} (apt-get install firefox-esr)`);
    srv = await startServer();
    const firefox = await launchFirefox();
    const chromium = await launchChromium();
    fox = await newFirefoxParticipant(firefox, 'Fox');
    people.push(fox, await newChromiumParticipant(chromium, 'Chrome 1'), await newChromiumParticipant(chromium, 'Chrome 2'));
  });
  after(cleanup);

  it('Firefox creates the meeting from the home page; all three join; video decodes both ways', TEST, async (t) => {
    await fox.page.goto(`${srv.url}/`);
    await waitFor(() => buttonVisible(fox, 'New meeting'), 10000, 'Firefox: "New meeting"');
    await clickButton(fox, 'New meeting');
    await waitFor(() => /\/m\/[a-z0-9_-]{25,40}$/.test(fox.page.url()), 10000, 'Firefox: the address /m/<id>');
    const url = fox.page.url();
    // `?debug`: every core transition in the console (kept for the diagnostics).
    await fox.page.evaluate(() => history.replaceState(null, '', `${location.pathname}?debug`));
    await joinViaUi(fox, null, 'Fox');
    for (const p of people.slice(1)) await joinViaUi(p, `${url}?debug`, p.name);
    try {
      await waitForDecoding(people, 2, { timeout: CONNECT_MS });
    } catch (e) {
      const diag = await decodingDiagnostics(people, e);
      t.diagnostic(`full logs: ${saveLogs(people, 'firefox').join(' ')}`);
      e.message += `\n${diag}`;
      throw e;
    }
    const foxSees = (await remoteTiles(fox)).map((x) => x.name).sort();
    assert.deepEqual(foxSees, ['Chrome 1', 'Chrome 2'], 'Firefox shows both Chromium participants');
    for (const p of people.slice(1)) {
      const tile = (await remoteTiles(p)).find((x) => x.name === 'Fox');
      assert.ok(tile && tile.width > 0, `${p.name} shows Firefox's video`);
    }
  });

  it('chat crosses between Firefox and Chromium', TEST, async () => {
    const [f, c1, c2] = people;
    const fromFox = `Hi from Firefox ${Date.now()}`;
    const fromChrome = `Hi from Chromium ${Date.now()}`;
    await clickButton(f, 'Chat');
    await clickButton(c1, 'Chat');
    await clickButton(c2, 'Chat');
    await fillLabelled(f, 'Chat message', fromFox);
    await clickButton(f, 'Send');
    await waitForVisibleText(c1, fromFox, 5000);
    await waitForVisibleText(c2, fromFox, 5000);
    await fillLabelled(c1, 'Chat message', fromChrome);
    await clickButton(c1, 'Send');
    await waitForVisibleText(f, fromChrome, 5000);
    await waitForVisibleText(c2, fromChrome, 5000);
  });

  it('a Chromium page shares its screen: Firefox shows it pinned, whole, and playing; it goes back when sharing stops', TEST, async () => {
    const [f, c1] = people;
    // What Firefox's page shows of Chrome 1's tile: its picture's size,
    // frames painted so far, how it fits, and whether it is pinned.
    const seen = () => f.page.evaluate(() => {
      const tile = [...document.querySelectorAll('[data-tile]')].find((t) => t.dataset.name === 'Chrome 1');
      const video = tile?.querySelector('video');
      return video && { width: video.videoWidth, height: video.videoHeight, painted: video.mozPaintedFrames, whole: video.classList.contains('whole'), pinned: tile.classList.contains('pinned') };
    });
    const camera = await seen();
    await clickButton(c1, 'Share screen');
    let last = null;
    await waitFor(async () => {
      last = await seen();
      return last && last.pinned && last.whole && (last.width !== camera.width || last.height !== camera.height);
    }, 15000, 'Firefox to show Chrome 1\'s screen pinned and whole', { every: 200, describe: () => JSON.stringify({ camera, last }) });
    const sharing = await seen();
    await waitFor(async () => (await seen()).painted > sharing.painted + 5, 10000, 'Firefox to keep painting the screen', { every: 200 });
    await clickButton(c1, 'Stop sharing');
    // The camera again: its shape, not its size (each peer is sent the size
    // its tile draws, and the tile is not the size it was before the share).
    const aspect = (x) => x.width / x.height;
    await waitFor(async () => {
      last = await seen();
      return !last.pinned && !last.whole && last.height > 0 && Math.abs(aspect(last) - aspect(camera)) < 0.03;
    }, 15000, 'Firefox back on Chrome 1\'s camera, unpinned', { every: 200, describe: () => JSON.stringify({ camera, last }) });
  });

  it('"Verify": Firefox and each Chromium page read the same code', TEST, async () => {
    const [f, ...chromes] = people;
    for (const c of chromes) {
      let fc = null;
      let cf = null;
      await waitFor(async () => {
        [fc, cf] = [await shownVerificationCode(f, c.name), await shownVerificationCode(c, f.name)];
        return /^\d{3} \d{3}$/.test(fc ?? '') && fc === cf;
      }, 5000, `Firefox and ${c.name} to read the same code`, { every: 200, describe: () => `Firefox sees ${fc}, ${c.name} sees ${cf}` });
    }
  });
});
