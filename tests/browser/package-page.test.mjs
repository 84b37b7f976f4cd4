// The npm package as a web developer uses it, without a bundler: `npm pack`
// → installed into an empty folder → a plain HTML page that maps the bare
// specifier 'meshmeet' to node_modules with an import map, served as static
// files from ANOTHER origin than the meshmeet server (as on a developer's own
// site). In Chromium that page creates a meeting on the server and two such
// pages join it, receive each other's camera and exchange app data (a chat
// built on it, JSON, lossy, and a 300 KiB ArrayBuffer, chunked); a server
// whose --allow-origin leaves the site out is reported as forbidden-origin.
//
//   node --test --test-concurrency=1 tests/browser/package-page.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchChromium, newChromiumParticipant, waitFor, cleanup, createMeetingApi } from './harness.mjs';
import { IMPORT_MAP, packageSite } from './site.mjs';

const TEST = { timeout: 120000 };

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>my site</title>
${IMPORT_MAP}
<script type="module">
  import { createMeeting, joinMeeting } from 'meshmeet';
  const seen = { tracks: [], chats: [], peers: [], data: [], greetings: [] };
  window.site = {
    seen,
    create: (server) => createMeeting(server, { name: 'on my site' }).then((m) => ({ id: m.id, link: m.link })),
    async join(server, meeting, name) {
      const localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      const m = await joinMeeting({ server, meeting, name, localStream });
      m.on('peer-joined', (peer) => seen.peers.push(peer.name));
      // A greeting the moment a peer is connected, as a site would send its state.
      m.on('peer-state', ({ peer, state }) => {
        if (state !== 'connected') return;
        m.send({ type: 'greeting', from: name }, { to: peer.id }).then(() => seen.greetings.push('sent'), (e) => seen.greetings.push(e.code));
      });
      m.on('track', ({ peer, track }) => seen.tracks.push({ peer: peer.name, kind: track.kind }));
      m.on('data', ({ from, data, reliable }) => {
        // Chat is app data in a shape of the site's own, as in docs/api.md ("Chat").
        if (data?.type === 'chat') return seen.chats.push({ from: from.name, text: data.text });
        if (data?.type === 'greeting') return seen.greetings.push('from ' + data.from);
        // An ArrayBuffer is summed up (the test compares sums, not 300 KiB of JSON).
        const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : null;
        const summary = bytes ? { bytes: bytes.length, sum: bytes.reduce((s, b) => (s + b) % 65521, 0) } : data;
        seen.data.push({ from: from.name, reliable, data: summary });
      });
      for (const peer of m.peers.values()) seen.peers.push(peer.name);
      window.meeting = m;
      return m.self.id;
    },
    chat: (text, to) => window.meeting.send({ type: 'chat', text }, to ? { to } : {}),
  };
  window.dispatchEvent(new Event('site-ready'));
</script>`;

describe('the packed npm package on a page of another origin, no bundler (Chromium)', () => {
  let srv;
  let site;
  let browser;

  before(async () => {
    srv = await startServer();
    site = await packageSite({ 'index.html': PAGE });
    browser = await launchChromium();
  });
  after(async () => {
    await site?.close();
    await cleanup();
  });

  async function openSite(name) {
    const p = await newChromiumParticipant(browser, name);
    await p.page.goto(`${site.url}/`);
    await p.page.waitForFunction(() => !!window.site, null, { timeout: 10000 });
    return p;
  }

  it('creates a meeting, two pages join it, see and hear each other, and exchange app data (chat included)', TEST, async () => {
    assert.notEqual(new URL(site.url).origin, new URL(srv.url).origin, 'the page and the server are different origins');
    const ada = await openSite('Ada');
    const bo = await openSite('Bo');
    const created = await ada.page.evaluate((server) => window.site.create(server), srv.url);
    assert.match(created.id, /^[a-z0-9_-]{25,40}$/);
    assert.equal(created.link, `${srv.url}/m/${created.id}`, 'the link points at the meeting server');

    await ada.page.evaluate(([server, id]) => window.site.join(server, id, 'Ada'), [srv.url, created.id]);
    await bo.page.evaluate(([server, id]) => window.site.join(server, id, 'Bo'), [srv.url, created.id]);
    for (const [p, other] of [[ada, 'Bo'], [bo, 'Ada']]) {
      let seen = null;
      await waitFor(async () => {
        seen = await p.page.evaluate(() => window.site.seen);
        const kinds = seen.tracks.filter((x) => x.peer === other).map((x) => x.kind).sort();
        return seen.peers.includes(other) && kinds.includes('audio') && kinds.includes('video');
      }, 20000, `${p.name}: ${other}'s audio and video`, { describe: () => JSON.stringify(seen) });
    }

    // Each page greeted the other in its 'peer-state' handler for 'connected':
    // sent (send() waits the moment the channels take to open), and received.
    for (const [p, other] of [[ada, 'Bo'], [bo, 'Ada']]) {
      let greetings = [];
      await waitFor(async () => {
        greetings = await p.page.evaluate(() => window.site.seen.greetings);
        return greetings.includes(`from ${other}`) && greetings.includes('sent');
      }, 10000, `${p.name} to greet ${other} and be greeted`, { describe: () => JSON.stringify(greetings) });
      assert.deepEqual(greetings.filter((g) => !g.startsWith('from ')), ['sent'], `${p.name}'s greeting sent, not refused`);
    }
    const boId = await bo.page.evaluate(() => window.meeting.self.id);
    await ada.page.evaluate((id) => window.site.chat('hello from my site', id), boId);
    await waitFor(async () => (await bo.page.evaluate(() => window.site.seen.chats)).some((c) => c.from === 'Ada' && c.text === 'hello from my site'),
      10000, 'Bo to get Ada\'s chat');

    // App data, both ways: a JSON value, a lossy one, a 300 KiB ArrayBuffer (five chunks).
    const sent = await ada.page.evaluate(async () => {
      const bytes = new Uint8Array(300 * 1024).map((_, i) => (i * 7) % 251);
      await window.meeting.send({ kind: 'cursor', x: 1 });
      await window.meeting.send({ kind: 'cursor', x: 2 }, { reliable: false });
      await window.meeting.send(bytes.buffer);
      return { bytes: bytes.length, sum: bytes.reduce((s, b) => (s + b) % 65521, 0) };
    });
    await ada.page.evaluate((id) => window.meeting.send('just for you', { to: id }), boId);
    await bo.page.evaluate(() => window.meeting.send('thanks'));
    await waitFor(async () => (await bo.page.evaluate(() => window.site.seen.data)).length === 4, 10000, 'Bo to get four messages from Ada');
    const got = await bo.page.evaluate(() => window.site.seen.data);
    assert.deepEqual(got.filter((d) => d.reliable).map((d) => d.data), [{ kind: 'cursor', x: 1 }, sent, 'just for you'], 'reliable ones in order, as sent');
    assert.deepEqual(got.filter((d) => !d.reliable).map((d) => d.data), [{ kind: 'cursor', x: 2 }]);
    assert.ok(got.every((d) => d.from === 'Ada'));
    await waitFor(async () => (await ada.page.evaluate(() => window.site.seen.data)).some((d) => d.from === 'Bo' && d.data === 'thanks'), 10000, 'Ada to get Bo\'s');
    for (const p of [ada, bo]) {
      await p.page.evaluate(() => window.meeting.leave());
      await p.close();
    }
  });

  it('a server that does not allow this origin: createMeeting and joinMeeting say forbidden-origin, at once', TEST, async () => {
    const strict = await startServer(['--allow-origin', 'https://only.example']);
    const { id } = await createMeetingApi(strict, 'not for this site');
    const eve = await openSite('Eve');
    const started = Date.now();
    const outcome = await eve.page.evaluate(async ([server, meeting]) => {
      const codeOf = (promise) => promise.then(() => 'resolved', (e) => e.code ?? String(e));
      return {
        create: await codeOf(window.site.create(server)),
        join: await codeOf(window.site.join(server, meeting, 'Eve')),
      };
    }, [strict.url, id]);
    assert.deepEqual(outcome, { create: 'forbidden-origin', join: 'forbidden-origin' });
    assert.ok(Date.now() - started < 10000, `told within seconds (${Date.now() - started} ms), not after the join timeout`);
    await eve.close();
  });
});
