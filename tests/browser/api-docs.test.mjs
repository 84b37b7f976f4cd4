// docs/api.md is true: its example modules are copied out of the page as
// they are, served with the packed npm package from a site of their own
// (another origin than the server), and run in two Chromium pages against
// the real server: the roster fills and empties, cursors, a file and chat
// (to everyone and to one peer) cross over app data, a shared screen is seen
// as one, and both ends read the same verification code and can mark it
// verified.
//
//   node --test --test-concurrency=1 tests/browser/api-docs.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startServer, launchChromium, newChromiumParticipant, waitFor, cleanup, createMeetingApi } from './harness.mjs';
import { IMPORT_MAP, packageSite } from './site.mjs';

const TEST = { timeout: 120000 };

/** The example modules of docs/api.md: file name → source. */
function examples() {
  const doc = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
  return Object.fromEntries([...doc.matchAll(/<!-- example: ([\w-]+\.mjs) -->\n```js\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]));
}

// What each page records of what the examples report.
const PAGE = (names) => `<!doctype html>
<meta charset="utf-8">
<title>docs</title>
${IMPORT_MAP}
<ul id="roster"></ul>
<div id="surface" style="width: 400px; height: 300px; background: #eee"></div>
<script type="module">
  ${names.map((n, i) => `import * as example${i} from './${n}';`).join('\n  ')}
  const docs = { ${names.map((n, i) => `'${n.replace('.mjs', '')}': example${i}`).join(', ')} };
  const seen = { cursors: [], files: [], chats: [], screens: [], codes: [] };
  const sum = (bytes) => new Uint8Array(bytes).reduce((s, b) => (s + b) % 65521, 0);
  window.page = {
    docs,
    seen,
    async join(server, meeting, name) {
      const m = await docs.roster.joinWithRoster({ server, meeting, name, list: document.getElementById('roster') });
      docs.verify.showCodes(m, (peer, code, trust) => seen.codes.push({ name: peer.name, id: peer.id, code, trust }));
      docs.cursors.shareCursor(m, document.getElementById('surface'), (peer, x, y) => seen.cursors.push({ name: peer.name, x, y }));
      docs.cursors.receiveFiles(m, (peer, bytes) => seen.files.push({ name: peer.name, size: bytes.byteLength, sum: sum(bytes) }));
      docs.chat.receiveChat(m, (peer, text, direct) => seen.chats.push({ name: peer.name, text, direct }));
      docs.screen.watchScreens(m, (peer, screen) => seen.screens.push({ name: peer.name, screen }));
      window.meeting = m;
      return m.self.id;
    },
    roster: () => [...document.querySelectorAll('#roster li')].map((li) => li.textContent),
    sum,
  };
  window.dispatchEvent(new Event('page-ready'));
</script>`;

describe('docs/api.md: every example runs as written (Chromium, packed package)', () => {
  let srv;
  let site;
  let browser;
  let ada;
  let bob;
  const ids = {};

  before(async () => {
    const found = examples();
    assert.deepEqual(Object.keys(found).sort(), ['chat.mjs', 'cursors.mjs', 'roster.mjs', 'screen.mjs', 'verify.mjs'], 'the examples of docs/api.md');
    srv = await startServer();
    site = await packageSite({ ...found, 'index.html': PAGE(Object.keys(found)) });
    browser = await launchChromium();
  });
  after(async () => {
    await site?.close();
    await cleanup();
  });

  const open = async (name) => {
    const p = await newChromiumParticipant(browser, name);
    await p.page.goto(`${site.url}/`);
    await p.page.waitForFunction(() => !!window.page, null, { timeout: 10000 });
    return p;
  };
  const seen = (p) => p.page.evaluate(() => window.page.seen);

  it('roster: each lists the other, connected', TEST, async () => {
    const { id } = await createMeetingApi(srv, 'docs');
    ada = await open('Ada');
    bob = await open('Bob');
    ids.ada = await ada.page.evaluate(([server, meeting]) => window.page.join(server, meeting, 'Ada'), [srv.url, id]);
    ids.bob = await bob.page.evaluate(([server, meeting]) => window.page.join(server, meeting, 'Bob'), [srv.url, id]);
    for (const [p, other] of [[ada, 'Bob'], [bob, 'Ada']]) {
      let rows = [];
      await waitFor(async () => (rows = await p.page.evaluate(() => window.page.roster())).includes(`${other}: connected`),
        20000, `${p.name}'s roster to show ${other} connected`, { describe: () => JSON.stringify(rows) });
    }
  });

  it('app data: cursors (lossy) and a 1 MiB file (reliable) cross', TEST, async () => {
    const box = await ada.page.locator('#surface').boundingBox();
    await waitFor(async () => {
      await ada.page.mouse.move(box.x + 10 + Math.random() * 100, box.y + 20);
      await ada.page.mouse.move(box.x + 120, box.y + 80, { steps: 4 });
      return (await seen(bob)).cursors.some((c) => c.name === 'Ada' && c.x >= 0 && c.y >= 0);
    }, 10000, "Bob to see Ada's cursor", { every: 200 });
    const sent = await ada.page.evaluate(async (to) => {
      const bytes = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) % 251);
      await window.page.docs.cursors.sendFile(window.meeting, to, new Blob([bytes]));
      return { size: bytes.byteLength, sum: window.page.sum(bytes) };
    }, ids.bob);
    await waitFor(async () => (await seen(bob)).files.length === 1, 10000, "Bob to get Ada's file");
    assert.deepEqual((await seen(bob)).files, [{ name: 'Ada', ...sent }]);
    assert.deepEqual((await seen(ada)).files, [], 'a file to one peer reaches only that peer');
  });

  it('chat: to everyone, and to one peer; neither is taken for a cursor or a file', TEST, async () => {
    // Both ways are open: the cursors and the file crossed.
    await ada.page.evaluate(() => window.page.docs.chat.sendChat(window.meeting, 'hello, everyone'));
    await bob.page.evaluate((to) => window.page.docs.chat.sendChat(window.meeting, 'just for you', to), ids.ada);
    await waitFor(async () => (await seen(bob)).chats.length === 1 && (await seen(ada)).chats.length === 1, 10000, 'each to get the other\'s chat');
    assert.deepEqual((await seen(bob)).chats, [{ name: 'Ada', text: 'hello, everyone', direct: false }]);
    assert.deepEqual((await seen(ada)).chats, [{ name: 'Bob', text: 'just for you', direct: true }]);
    assert.equal((await seen(bob)).files.length, 1, 'no chat taken for a file');
    assert.equal((await seen(ada)).files.length, 0);
  });

  it('screen share: Bob sees Ada share her screen, then stop', TEST, async () => {
    await ada.page.evaluate(async () => {
      const [camera] = (await navigator.mediaDevices.getUserMedia({ video: true })).getVideoTracks();
      window.stopSharing = await window.page.docs.screen.shareScreen(window.meeting, camera);
    });
    await waitFor(async () => (await seen(bob)).screens.some((s) => s.name === 'Ada' && s.screen), 10000, 'Bob to see a screen from Ada');
    await ada.page.evaluate(() => window.stopSharing());
    await waitFor(async () => (await seen(bob)).screens.at(-1)?.screen === false, 10000, 'Bob to see Ada stop sharing');
  });

  it('verification: both read the same code, and marking it verified is remembered', TEST, async () => {
    const codeOf = async (p, name) => (await seen(p)).codes.filter((c) => c.name === name).at(-1);
    await waitFor(async () => (await codeOf(ada, 'Bob'))?.code && (await codeOf(bob, 'Ada'))?.code, 10000, 'both codes');
    const [a, b] = [await codeOf(ada, 'Bob'), await codeOf(bob, 'Ada')];
    assert.match(a.code, /^\d{3} \d{3}$/);
    assert.equal(a.code, b.code, 'Ada and Bob read the same six digits');
    assert.equal(a.trust, 'unverified');
    assert.equal(await ada.page.evaluate((id) => window.page.docs.verify.codesMatched(window.meeting, id), ids.bob), true);
    await waitFor(async () => (await codeOf(ada, 'Bob')).trust === 'verified', 5000, "Ada's code for Bob to be marked verified");
  });

  it('roster: Bob leaves and is gone from Ada\'s list', TEST, async () => {
    await bob.page.evaluate(() => window.meeting.leave());
    await waitFor(async () => (await ada.page.evaluate(() => window.page.roster())).length === 0, 10000, "Ada's roster to empty");
    await ada.page.evaluate(() => window.meeting.leave());
  });
});
