// The signaling server dies mid-meeting (kill -9) and comes back on the same
// port with the same database: media between browsers keeps flowing, chat
// still crosses (it never touches the server), the page says it is
// reconnecting and stops saying so once back, every tile
// stays (the same <video> under the same peer id: the restarted server takes
// back the resume tokens it signed before), and a fifth person can still join
// and connect to all four.
//
//   node --test --test-concurrency=1 tests/browser/resilience.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchChromium, newChromiumParticipant, joinViaUi, createMeetingApi, waitForDecoding,
  decodingDiagnostics, saveLogs, waitFor, cleanup, clickButton, fillLabelled, waitForVisibleText,
} from './harness.mjs';

const TEST = { timeout: 120000 };
/** A fresh mesh must show video everywhere within this long (as in meeting.test.mjs). */
const CONNECT_MS = 10000;
const RECONNECTING = 'Connection lost — reconnecting…';

/** The banner as the user sees it: its text if visible, else null. */
/** Each remote tile's video: the id it shows now, and the id it had when marked. */
async function videoIds(p) {
  return p.page.evaluate(() => [...document.querySelectorAll('video[data-peer]')].map((v) => ({ peer: v.dataset.peer, mark: v.dataset.testMark ?? null })));
}

async function bannerText(p) {
  return p.page.evaluate(() => {
    const b = document.getElementById('banner');
    return b && b.checkVisibility() ? b.textContent : null;
  });
}

describe('the server is killed mid-meeting and restarted', () => {
  let srv;
  let browser;
  let url;
  const people = [];

  before(async () => {
    srv = await startServer();
    browser = await launchChromium();
  });
  after(cleanup);

  async function decodingOrExplain(t, who, expected, timeout, label) {
    try {
      return await waitForDecoding(who, expected, { timeout });
    } catch (e) {
      const diag = await decodingDiagnostics(who, e);
      const files = saveLogs(who, label);
      t.diagnostic(`full logs: ${files.join(' ')}`);
      e.message += `\n${diag}`;
      throw e;
    }
  }

  it('four people are in a meeting with video decoding everywhere', TEST, async (t) => {
    const { id } = await createMeetingApi(srv, 'Resilience');
    url = `${srv.url}/m/${id}?debug`;
    for (const name of ['Alice', 'Bob', 'Carol', 'Dave']) {
      const p = await newChromiumParticipant(browser, name);
      people.push(p);
      await joinViaUi(p, url, name);
    }
    // The set-up, not the subject: a slow mesh (see meeting.test.mjs) gets time.
    await decodingOrExplain(t, people, 3, 40000, 'resilience-setup');
  });

  it('kill -9 the server: video keeps playing on every page and the reconnecting banner shows', TEST, async (t) => {
    assert.equal(people.length, 4);
    for (const p of people) assert.equal(await bannerText(p), null, `${p.name}: no banner before`);
    // Mark every video element, to tell after the restart whether it was kept.
    for (const p of people) await p.page.evaluate(() => document.querySelectorAll('video[data-peer]').forEach((v) => { v.dataset.testMark = v.dataset.peer; }));
    await srv.kill9();
    assert.equal(srv.proc, null, 'the server is gone');
    await Promise.all(people.map((p) => waitFor(async () => (await bannerText(p)) === RECONNECTING, 5000, `${p.name}: the "${RECONNECTING}" banner`)));
    // Frames keep increasing on every tile while nobody can signal.
    await decodingOrExplain(t, people, 3, 8000, 'resilience-down');
    for (const p of people) assert.equal(await bannerText(p), RECONNECTING, `${p.name}: still reconnecting while the server is down`);
  });

  it('with the server still down, chat reaches everyone: it goes peer to peer', TEST, async () => {
    assert.equal(srv.proc, null, 'the server is still down');
    const [alice, ...others] = people;
    for (const p of people) await clickButton(p, 'Chat');
    await fillLabelled(alice, 'Chat message', 'no server needed');
    await clickButton(alice, 'Send');
    for (const p of others) await waitForVisibleText(p, 'no server needed', 5000);
    for (const p of people) await clickButton(p, 'Chat');  // closed again: the tiles get the room back
  });

  it('restart it on the same port: the banner goes', TEST, async (t) => {
    const port = srv.port;
    await srv.restart();
    assert.equal(srv.port, port, 'same port');
    const start = Date.now();
    await Promise.all(people.map((p) => waitFor(async () => (await bannerText(p)) === null, 25000, `${p.name}: the banner to go once the server is back`)));
    t.diagnostic(`banner gone on all four ${Date.now() - start} ms after the restart`);
  });

  it('once back, every tile is kept under the same peer id and its video never stopped', TEST, async (t) => {
    // The restarted server knows nobody, but takes the tokens it signed back:
    // everyone resumes under the same id, and every connection carries on.
    await Promise.all(people.map((p) => {
      let ids = [];
      return waitFor(async () => {
        ids = await videoIds(p);
        return ids.length === 3 && ids.every((v) => v.mark !== null && v.peer === v.mark);
      }, 15000, `${p.name}: the same three videos under the same ids`, { describe: () => JSON.stringify(ids) });
    }));

    await decodingOrExplain(t, people, 3, CONNECT_MS, 'resilience-back');
    for (const p of people) {
      const ids = await videoIds(p);
      assert.equal(ids.filter((v) => v.mark !== null).length, 3, `${p.name}: no tile was rebuilt (${JSON.stringify(ids)})`);
    }
  });

  it('a fifth page joins and connects to all four', TEST, async (t) => {
    // The four first settle (not the subject; a slow mesh gets time) …
    await decodingOrExplain(t, people, 3, 40000, 'resilience-before-fifth');
    const erin = await newChromiumParticipant(browser, 'Erin');
    people.push(erin);
    await joinViaUi(erin, url, 'Erin');
    // … then Erin decodes all four and all four decode Erin.
    const r = await decodingOrExplain(t, people, 4, CONNECT_MS, 'resilience-fifth');
    assert.deepEqual(r.tiles.Erin.map((x) => x.name).sort(), ['Alice', 'Bob', 'Carol', 'Dave']);
  });
});
