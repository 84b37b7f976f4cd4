// Each peer is sent the video its tile shows (meeting.observeVideo, used by
// the app for every tile): no tile receives a picture much larger than it
// draws, not even its first one; pinning one peer makes its picture grow and
// the others' shrink, and a hidden tab, or a tile moved off-screen, is sent
// no video until it is shown again, within a second; a device whose CPU is
// under pressure sends everyone a smaller picture until the pressure eases;
// from three people on, audio goes in 40 ms packets (half the packets of a
// call of two); a muted microphone sends each peer a few packets a second
// (Opus DTX). Three Chromium pages, fake 640×480 camera, the real server;
// each page's CPU pressure (the Compute Pressure API) is held at "nominal"
// through Chromium's override, so this busy machine's own pressure does not
// step anyone down, and set by the test.
//
//   node --test --test-concurrency=1 tests/browser/video-size.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchChromium, newChromiumParticipant, joinViaUi, waitForDecoding, createMeetingApi, cleanup,
  waitFor, selfTile,
} from './harness.mjs';

const TEST = { timeout: 120000 };
// A picture within this of the height the tile draws counts as "its size"
// (encoders round to even sizes and steps of 16 lines).
const SLACK = 1.25;

/**
 * Every remote tile of a page: the height its picture is drawn at in device
 * pixels (object-fit cover: the height that covers the box), the height
 * received, and the frames decoded so far.
 */
async function tileSizes(p) {
  return p.page.evaluate(() => [...document.querySelectorAll('video[data-peer]')].map((v) => {
    const box = v.getBoundingClientRect();
    const aspect = v.videoWidth && v.videoHeight ? v.videoWidth / v.videoHeight : 4 / 3;
    const fit = getComputedStyle(v).objectFit;
    const drawn = (fit === 'cover' ? Math.max(box.height, box.width / aspect) : Math.min(box.height, box.width / aspect)) * devicePixelRatio;
    return {
      name: v.closest('.tile')?.querySelector('.name')?.textContent ?? '',
      drawn: Math.round(drawn),
      received: v.videoHeight,
      frames: v.getVideoPlaybackQuality().totalVideoFrames,
    };
  }));
}

/** Sets the CPU pressure the page's Compute Pressure API reports (CDP override). */
async function holdCpuPressure(p, state) {
  if (!p.cdp) {
    p.cdp = await p.context.newCDPSession(p.page);
    await p.cdp.send('Emulation.setPressureSourceOverrideEnabled', { enabled: true, source: 'cpu' });
  }
  await p.cdp.send('Emulation.setPressureStateOverride', { source: 'cpu', state });
}

/** Before the page loads: every RTCPeerConnection it makes is kept in window.__connections, to read its stats. */
const keepConnections = () => {
  const Native = window.RTCPeerConnection;
  window.__connections = [];
  window.RTCPeerConnection = function RTCPeerConnection(...args) {
    const pc = new Native(...args);
    window.__connections.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
};

/**
 * Before the page loads: the first picture each tile receives, kept in
 * window.__firstPictures as { name, received, drawn } (drawn as tileSizes
 * measures it, at that moment).
 */
const keepFirstPictures = () => {
  window.__firstPictures = [];
  const seen = new WeakSet();
  // Media events do not bubble; a capturing listener on the document sees them all.
  document.addEventListener('loadedmetadata', (event) => {
    const v = event.target;
    if (!(v instanceof HTMLVideoElement) || !v.dataset.peer || !v.videoHeight || seen.has(v)) return;
    seen.add(v);
    const box = v.getBoundingClientRect();
    const drawn = Math.max(box.height, box.width / (v.videoWidth / v.videoHeight)) * devicePixelRatio;
    window.__firstPictures.push({ name: v.closest('.tile')?.querySelector('.name')?.textContent ?? '', received: v.videoHeight, drawn: Math.round(drawn) });
  }, true);
};

/** Audio packets the page sent per second to each peer over `ms`, one rate per connection, lowest first. */
async function audioPacketRates(p, ms) {
  const sent = () => p.page.evaluate(async () => Promise.all(window.__connections.filter((pc) => pc.connectionState === 'connected').map(async (pc) => {
    let packets = 0;
    (await pc.getStats()).forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'audio') packets += s.packetsSent; });
    return packets;
  })));
  const before = await sent();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = await sent();
  return after.map((n, i) => Math.round(((n - before[i]) * 1000) / ms)).sort((a, b) => a - b);
}

/** The median of audioPacketRates. */
async function audioPacketsPerSecond(p, ms) {
  const rates = await audioPacketRates(p, ms);
  return rates[Math.floor(rates.length / 2)];
}

/**
 * Waits until the tiles at `watched` (indexes into tileSizes) have decoded no
 * new frame for a whole second: their senders stopped. Returns every tile's
 * frame count at that moment.
 */
async function untilNoFrames(p, watched, what) {
  const frames = async () => (await tileSizes(p)).map((x) => x.frames);
  let last = await frames();
  let stillAt = Date.now();
  await waitFor(async () => {
    const now = await frames();
    if (watched.some((i) => now[i] !== last[i])) stillAt = Date.now();
    last = now;
    return Date.now() - stillAt >= 1000;
  }, 10000, what, { every: 100 });
  return last;
}

const describeSizes = (tiles) => tiles.map((t) => `${t.name}: drawn ${t.drawn}, received ${t.received}`).join('; ');

describe('each peer gets the video its tile shows (Chromium)', () => {
  let srv;
  let browser;
  const people = [];

  before(async () => {
    srv = await startServer();
    browser = await launchChromium();
    const { id } = await createMeetingApi(srv);
    for (const name of ['Alice', 'Bob', 'Carol']) {
      const p = await newChromiumParticipant(browser, name);  // 800×600: tiles smaller than the camera
      await p.context.addInitScript(keepConnections);
      await p.context.addInitScript(keepFirstPictures);
      await holdCpuPressure(p, 'nominal');
      people.push(p);
      await joinViaUi(p, `${srv.url}/m/${id}?debug`, name);
    }
    await waitForDecoding(people, 2, { timeout: 30000 });
  });
  after(cleanup);

  it('no tile receives more than its size, though the camera sends more', TEST, async () => {
    const source = (await selfTile(people[0])).height;
    let sizes = [];
    for (const p of people) {
      await waitFor(async () => {
        sizes = await tileSizes(p);
        return sizes.length === 2 && sizes.every((t) => t.received > 0 && t.received <= t.drawn * SLACK);
      }, 10000, `${p.name}'s tiles to receive no more than they draw`, { every: 200, describe: () => describeSizes(sizes) });
      // Not vacuous: the camera gives more than the tiles draw.
      for (const t of sizes) assert.ok(source > t.drawn * SLACK, `${p.name}: the camera (${source} lines) is larger than ${t.name}'s tile (${t.drawn})`);
    }
  });

  it('the first picture of someone who joins is already the size of its tile, not the camera\'s', TEST, async (t) => {
    // Carol joined a meeting of two: her tiles and hers on the others' pages
    // are smaller than the camera's picture (the test above), and each end
    // said how large it draws the other in its offer or answer (or just
    // after, if its tile was laid out later), before the connection was up. (Alice and Bob met as a call of two: the stage was
    // larger than the camera then.)
    const [alice, bob, carol] = people;
    const firstPictures = async (p) => p.page.evaluate(() => window.__firstPictures);
    const checked = [
      ...(await firstPictures(alice)).filter((x) => x.name === 'Carol').map((x) => ({ on: 'Alice', ...x })),
      ...(await firstPictures(bob)).filter((x) => x.name === 'Carol').map((x) => ({ on: 'Bob', ...x })),
      ...(await firstPictures(carol)).map((x) => ({ on: 'Carol', ...x })),
    ];
    const described = checked.map((x) => `${x.on}'s tile of ${x.name}: first picture ${x.received} lines, drawn ${x.drawn}`).join('; ');
    t.diagnostic(described);
    assert.equal(checked.length, 4, `a first picture on each of the four tiles of Carol's pairs (${described})`);
    for (const x of checked) assert.ok(x.received <= x.drawn * SLACK, `no first picture larger than its tile: ${described}`);
  });

  it('pinning one peer: its picture grows to the spotlight, the other shrinks to its thumbnail', TEST, async () => {
    const [alice] = people;
    const before = Object.fromEntries((await tileSizes(alice)).map((t) => [t.name, t]));
    await alice.page.getByRole('button', { name: 'Pin Bob' }).click();
    let sizes = [];
    await waitFor(async () => {
      sizes = await tileSizes(alice);
      const bob = sizes.find((t) => t.name === 'Bob');
      const carol = sizes.find((t) => t.name === 'Carol');
      return bob.drawn > before.Bob.drawn && carol.drawn < before.Carol.drawn && bob.received > before.Bob.received &&
        carol.received <= carol.drawn * SLACK && bob.received <= bob.drawn * SLACK;
    }, 10000, 'Bob large and Carol small at the sizes Alice draws them', { every: 200, describe: () => describeSizes(sizes) });
    await alice.page.getByRole('button', { name: 'Unpin Bob' }).click();
  });

  it('a hidden tab is sent no video, and gets it back within a second of being shown', TEST, async (t) => {
    const [alice] = people;
    const setHidden = (hidden) => alice.page.evaluate((h) => {
      // What the browser does when the tab goes to the background.
      Object.defineProperty(document, 'visibilityState', { value: h ? 'hidden' : 'visible', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    }, hidden);
    const frames = async () => (await tileSizes(alice)).map((x) => x.frames);
    await setHidden(true);
    const last = await untilNoFrames(alice, [0, 1], 'Alice\'s tiles to stop receiving frames while her tab is hidden');
    await setHidden(false);
    const shownAt = Date.now();
    await waitFor(async () => (await frames()).every((f, i) => f > last[i]), 5000, 'video on both tiles again', { every: 50 });
    const ms = Date.now() - shownAt;
    t.diagnostic(`video back on both tiles ${ms} ms after the tab was shown`);
    assert.ok(ms <= 1000, `back within a second (took ${ms} ms)`);
  });

  it('a tile moved off-screen is sent no video while the other keeps its own, and gets it back within a second', TEST, async (t) => {
    const [alice] = people;
    // Where a page that scrolls puts a tile out of view; the layout keeps its size.
    const setOffScreen = (off) => alice.page.evaluate((o) => {
      document.querySelector('video[data-peer]').closest('.tile').style.transform = o ? 'translateY(-300vh)' : '';
    }, off);
    const frames = async () => (await tileSizes(alice)).map((x) => x.frames);
    await setOffScreen(true);
    // No frame on the moved tile, while the other still gets frames.
    const last = await untilNoFrames(alice, [0], 'Alice\'s off-screen tile to stop receiving frames');
    const other = last[1];
    await waitFor(async () => (await frames())[1] > other + 5, 5000, 'frames still on the tile in view', { every: 100 });
    await setOffScreen(false);
    const shownAt = Date.now();
    const stopped = last[0];
    await waitFor(async () => (await frames())[0] > stopped, 5000, 'video on the tile again', { every: 50 });
    const ms = Date.now() - shownAt;
    t.diagnostic(`video back on the tile ${ms} ms after it was in view again`);
    assert.ok(ms <= 1000, `back within a second (took ${ms} ms)`);
  });

  it('a device under CPU pressure sends everyone a smaller picture together, and the full one once it eases', TEST, async (t) => {
    const [alice, bob, carol] = people;
    const bobSeenBy = async () => Promise.all([alice, carol].map(async (p) => (await tileSizes(p)).find((x) => x.name === 'Bob')));
    const steps = () => bob.logs.filter((l) => l.machine === 'cpu-load');
    assert.deepEqual(steps(), [], 'no CPU step so far: the pressure was held at nominal');
    // Bob's picture at its full size on both pages first (after the hidden
    // tab, Bob's encoders ramp their bitrate, and with it the size, up again).
    const full = (x) => x.received >= 0.9 * x.drawn;
    let before = [];
    await waitFor(async () => {
      before = await bobSeenBy();
      return before.every(full);
    }, 30000, 'Bob\'s picture at its tiles\' size on both pages', { every: 250, describe: () => describeSizes(before) });

    await holdCpuPressure(bob, 'critical');
    const pressedAt = Date.now();
    let seen = [];
    await waitFor(async () => {
      seen = await bobSeenBy();
      return seen.every((x, i) => x.received > 0 && x.received <= 0.8 * before[i].received);
    }, 30000, 'Alice and Carol both to receive a smaller picture of Bob', { every: 250, describe: () => describeSizes(seen) });
    t.diagnostic(`Bob under critical CPU pressure: ${describeSizes(before)} → ${describeSizes(seen)} after ${Date.now() - pressedAt} ms`);
    assert.match(steps()[0]?.detail ?? '', /CPU pressure was critical/, 'the step down says why');

    await holdCpuPressure(bob, 'nominal');
    const easedAt = Date.now();
    await waitFor(async () => {
      seen = await bobSeenBy();
      return seen.every(full);
    }, 60000, 'Bob\'s full picture back on both pages', { every: 250, describe: () => describeSizes(seen) });
    t.diagnostic(`the pressure nominal again: the full picture back after ${Date.now() - easedAt} ms`);
  });

  it('from three people on, audio goes to each peer in 40 ms packets; the pair made in a call of two keeps 20 ms', TEST, async (t) => {
    const [alice, , carol] = people;
    // Chromium's fake microphone beeps several times a second: its audio goes
    // out whole, DTX or not. Carol joined a meeting of three: 25 packets/s to
    // each. Alice and Bob connected as a call of two: 50 between them.
    const fromCarol = await audioPacketRates(carol, 3000);
    const fromAlice = await audioPacketRates(alice, 3000);
    t.diagnostic(`audio packets/s to each peer: from Carol ${fromCarol.join(', ')}; from Alice ${fromAlice.join(', ')}`);
    for (const rate of fromCarol) assert.ok(rate >= 20 && rate <= 30, `Carol sends ${rate} audio packets/s to a peer (40 ms packets: 25)`);
    assert.ok(fromAlice[0] >= 20 && fromAlice[0] <= 30, `Alice sends Carol ${fromAlice[0]} audio packets/s (40 ms packets: 25)`);
    assert.ok(fromAlice[1] >= 45, `Alice sends Bob ${fromAlice[1]} audio packets/s (20 ms packets: 50)`);
  });

  it('a muted microphone sends each peer a few packets a second, not a steady stream (Opus DTX)', TEST, async (t) => {
    const carol = people[2];
    const unmuted = await audioPacketsPerSecond(carol, 3000);
    assert.ok(unmuted >= 20, `unmuted, Carol sends her audio whole (${unmuted} packets/s to each peer)`);
    await carol.page.getByRole('button', { name: 'Mute', exact: true }).click();
    await new Promise((resolve) => setTimeout(resolve, 1000));  // DTX starts after a few silent frames
    const muted = await audioPacketsPerSecond(carol, 3000);
    t.diagnostic(`Carol's audio to each peer: ${unmuted} packets/s unmuted, ${muted} muted`);
    assert.ok(muted <= 10, `muted, Carol sends ${muted} audio packets/s to each peer (without DTX: 25 of silence)`);
    await carol.page.getByRole('button', { name: 'Unmute', exact: true }).click();
  });
});
