// Calls across real networks: homes behind NAT routers and firewalls in the
// network lab (lab.mjs), the real server with its built-in STUN, coturn from
// the config the project ships, and Chromium in every home. Each scenario
// asserts what a person sees (every tile decoding video) and how it got
// there (the selected candidate pair of every connection, from getStats).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildLab, labUnavailable } from './lab.mjs';
import {
  startLabServer, startCoturn, homeParticipant, homeFirefoxParticipant, createMeeting, waitForSelectedPairs, remoteCandidates,
  candidateType, closeLab, sleep, waitFor, signalingReceived, videoFlow,
} from './harness.mjs';
import { joinViaUi, waitForDecoding, decodingDiagnostics, remoteTiles, fillLabelled, clickButton } from '../browser/harness.mjs';

// Without root (a developer's laptop) the scenarios are skipped, saying why;
// in CI a lab that cannot be built fails the suite, so the proof that calls
// cross NATs never goes missing quietly.
const unavailable = labUnavailable();
const T = { timeout: 180000, skip: unavailable ?? false };
if (unavailable && process.env.CI) test('the network lab can be built here (CI)', () => assert.fail(unavailable));

let lab = null;
let present = [];  // the participants of the running scenario
async function teardown() {
  await closeLab();
  lab?.teardown();
  lab = null;
  present = [];
}
const participantsNamed = (names) => present.filter((p) => names.includes(p.name));
after(teardown);

/** One Chromium participant per name, in the lab's homes in order. */
async function inHomes(names, options) {
  const ps = [];
  for (const [i, name] of names.entries()) ps.push(await homeParticipant(lab.homes[i], name, options));
  present.push(...ps);
  return ps;
}

/** Everyone joins `id` in order; resolves once every page decodes every other. */
async function joinAll(srv, participants, id) {
  for (const p of participants) await (p.join ? p.join(srv.meetingUrl(id)) : joinViaUi(p, srv.meetingUrl(id), p.name));
  try {
    await waitForDecoding(participants, participants.length - 1, { timeout: 30000 });
  } catch (err) {
    throw new Error(`${err.message}\n${await decodingDiagnostics(participants, err).catch(() => '')}`);
  }
}

test('two homes behind cone NATs, only the built-in STUN: peer to peer through their public addresses, no TURN', T, async () => {
  lab = buildLab([{ nat: 'cone' }, { nat: 'cone' }]);
  try {
    const srv = await startLabServer(lab);  // no TURN configured at all
    const [alice, bob] = await inHomes(['Alice', 'Bob']);
    const id = await createMeeting(alice);
    await joinAll(srv, [alice, bob], id);

    const pairs = await waitForSelectedPairs([alice, bob], 1);
    for (const [p, other] of [[alice, bob], [bob, alice]]) {
      const { local, remote } = pairs[p.name][0];
      assert.notEqual(local.type, 'relay', `${p.name}: no relay in the pair`);
      assert.notEqual(remote.type, 'relay', `${p.name}: no relay in the pair`);
      // The only way through the other's router is the public address its
      // NAT gave it, which only the STUN server could tell.
      assert.equal(remote.address, other.home.wan, `${p.name} reaches ${other.name} at ${other.name}'s router`);
    }
    const seen = await remoteCandidates(alice);
    assert.ok(seen.some((c) => candidateType(c) === 'srflx' && c.includes(` ${bob.home.wan} `)),
      `Alice was given Bob's server-reflexive candidate (got ${seen.join(' | ')})`);
  } finally {
    await teardown();
  }
});

test('a symmetric NAT and a firewall that drops all UDP: everyone reaches everyone through coturn (TURN over TCP for the UDP-blocked home)', T, async () => {
  lab = buildLab([{ nat: 'cone' }, { nat: 'symmetric' }, { nat: 'cone', udp: 'blocked' }]);
  try {
    const turn = await startCoturn(lab);
    const srv = await startLabServer(lab, { turn });
    const names = ['Cone', 'Symmetric', 'NoUdp'];
    const ps = await inHomes(names);
    const [cone, symmetric, noUdp] = ps;
    const id = await createMeeting(cone);
    await joinAll(srv, ps, id);

    const pairs = await waitForSelectedPairs(ps, 2);
    const relayed = (pair) => pair.local.type === 'relay' || pair.remote.type === 'relay';
    for (const pair of pairs.NoUdp) {
      assert.equal(pair.local.type, 'relay', 'the UDP-blocked home sends through its own TURN allocation');
      assert.equal(pair.local.relayProtocol, 'tcp', 'its allocation was made over TCP');
    }
    for (const p of [cone, symmetric]) {
      for (const pair of pairs[p.name]) assert.ok(relayed(pair), `${p.name}: every pair is relayed (${JSON.stringify(pair)})`);
    }
  } finally {
    await teardown();
  }
});

test('a relay-only meeting of three homes: every pair is relayed and no page ever learns another page\'s address', T, async () => {
  lab = buildLab([{ nat: 'cone' }, { nat: 'cone' }, { nat: 'cone' }]);
  try {
    const turn = await startCoturn(lab);
    const srv = await startLabServer(lab, { turn });
    const ps = await inHomes(['Ann', 'Ben', 'Cat']);
    const id = await createMeeting(ps[0], { relayOnly: true });
    await joinAll(srv, ps, id);

    const pairs = await waitForSelectedPairs(ps, 2);
    const private_ = lab.homes.flatMap((h) => [h.ip, h.wan]);
    for (const p of ps) {
      for (const pair of pairs[p.name]) {
        assert.equal(pair.local.type, 'relay', `${p.name}: its side of every pair is a TURN allocation`);
        assert.ok(!private_.includes(pair.remote.address), `${p.name}: the other side is the relay, not a home (${pair.remote.address})`);
      }
      const seen = await remoteCandidates(p);
      assert.ok(seen.length > 0, `${p.name} was given candidates`);
      for (const c of seen) {
        assert.equal(candidateType(c), 'relay', `${p.name} was given only relay candidates, got: ${c}`);
        for (const address of private_) assert.ok(!c.includes(` ${address} `), `${p.name} never sees ${address}: ${c}`);
      }
      // Nor did any address of another home reach it through signaling, in
      // any form (a candidate, a related address, an SDP's c= line).
      const received = (await signalingReceived(p)).join('\n');
      assert.ok(received.includes('"signal"'), `${p.name} received signals`);
      for (const h of lab.homes.filter((h) => h !== p.home))
        for (const address of [h.ip, h.wan]) assert.ok(!received.includes(address), `${p.name} never receives ${address} of home ${h.n}`);
    }
    // The page says so.
    for (const p of ps) assert.ok(await p.page.getByText(/IP addresses hidden/i).first().isVisible(), `${p.name}'s page says the meeting hides IP addresses`);
  } finally {
    await teardown();
  }
});


/** What `p`'s core did (its ?debug log), relative to `t0`: for failure messages. */
function story(p, t0) {
  return p.logs.filter((l) => !/candidate queued/.test(l.detail ?? ''))
    .map((l) => `${p.name} +${l.at - t0} ${l.machine} ${l.subject ?? ''} ${l.from ?? ''}->${l.to ?? ''} ${l.detail ?? ''}`).join('\n');
}

/** Frames `p` has decoded so far from each other participant, by their shown name. */
async function framesByName(p) {
  const tiles = await remoteTiles(p);
  return Object.fromEntries(tiles.map((t) => [t.name, t.frames]));
}

/** Resolves once `watchers` each decode new frames from every one of `from` (names); rejects after `ms`. */
async function waitForVideoFrom(watchers, from, ms, what) {
  const before = new Map();
  for (const w of watchers) before.set(w, await framesByName(w));
  const start = Date.now();
  const stuck = [];
  try {
    await waitFor(async () => {
      stuck.length = 0;
      for (const w of watchers) {
        const now = await framesByName(w);
        for (const name of from) if (!(now[name] > (before.get(w)[name] ?? 0) + 2)) stuck.push(`${w.name} sees ${name} frozen (frames ${before.get(w)[name]} -> ${now[name]})`);
      }
      return stuck.length === 0;
    }, ms, what, { every: 250, describe: () => stuck.join('; ') });
  } catch (err) {
    const flows = [];
    for (const p of new Set([...watchers, ...participantsNamed(from)])) flows.push(...(await videoFlow(p).catch(() => [])).map((l) => `${p.name} ${l}`));
    throw new Error(`${err.message}\n${flows.join('\n')}`);
  }
  return Date.now() - start;
}

// When both ends of a pair restarted ICE after the blackout, their restart
// offers crossed, and in about one run in eight the polite end's tile of the
// other stayed frozen (decoding, not rendering) though the pair was up: now
// only the impolite end makes restart offers (wasm/core/peer_signal.hpp).
test('30 % packet loss for 10 s, then a 10 s blackout, at one home: its video is back on every tile within 10 s, and the others never stop seeing each other', T, async () => {
  lab = buildLab([{ nat: 'cone' }, { nat: 'cone' }, { nat: 'cone' }]);
  try {
    const turn = await startCoturn(lab);
    const srv = await startLabServer(lab, { turn });
    const ps = await inHomes(['Ann', 'Ben', 'Cat']);
    const [ann, ben, cat] = ps;
    const id = await createMeeting(ann);
    await joinAll(srv, ps, id);

    // Ann and Ben watch each other once a second through both faults.
    const stalls = [];
    let watching = true;
    const t0 = Date.now();
    const watch = (async () => {
      let last = [await framesByName(ann), await framesByName(ben)];
      while (watching) {
        await sleep(1000);
        const now = [await framesByName(ann), await framesByName(ben)];
        if (!(now[0].Ben > last[0].Ben)) stalls.push(`Ann saw no new frame from Ben at +${Date.now() - t0} ms`);
        if (!(now[1].Ann > last[1].Ann)) stalls.push(`Ben saw no new frame from Ann at +${Date.now() - t0} ms`);
        last = now;
      }
    })();
    try {
      lab.fault(cat.home, 'loss', 30);
      await sleep(10000);
      lab.fault(cat.home, 'blackout');
      await sleep(10000);
      lab.fault(cat.home, 'none');
      const back = await waitForVideoFrom([ann, ben], ['Cat'], 10000, "Cat's video on Ann's and Ben's tiles after the faults");
      await waitForVideoFrom([cat], ['Ann', 'Ben'], 10000 - back, "Ann's and Ben's video on Cat's tiles after the faults");
    } catch (err) {
      throw new Error(`${err.message}\n${ps.map((p) => story(p, t0)).join('\n')}`);
    } finally {
      // The watcher must be done before the pages close, whatever happened.
      watching = false;
      await watch.catch((e) => stalls.push(`watching failed: ${e.message}`));
    }
    assert.deepEqual(stalls, [], 'the participants without a fault never stop seeing each other');
  } finally {
    await teardown();
  }
});

test('TURN credentials of 60 s: after they expired, a blackout after which the home has another address still reconnects through TURN (a new allocation)', { ...T, timeout: 240000 }, async () => {
  // Two symmetric NATs: only TURN connects them.
  lab = buildLab([{ nat: 'symmetric' }, { nat: 'symmetric' }]);
  try {
    const turn = await startCoturn(lab);
    const srv = await startLabServer(lab, { turn, args: ['--turn-ttl', '60'] });
    const [ann, ben] = await inHomes(['Ann', 'Ben']);
    const id = await createMeeting(ann);
    const joined = Date.now();
    await joinAll(srv, [ann, ben], id);
    const before = await waitForSelectedPairs([ann, ben], 1);

    // The credentials of the welcome are dead after 60 s; a few seconds more for clock granularity.
    await sleep(Math.max(0, joined + 65000 - Date.now()));
    // The router goes dark and comes back with another public address: the
    // TURN allocation Ann had is bound to her old address, so only an ICE
    // restart with a new allocation, made with credentials minted after the
    // welcome's had expired, can reconnect the pair.
    lab.fault(ann.home, 'blackout');
    await sleep(4000);
    lab.renumber(ann.home);
    await sleep(4000);
    lab.fault(ann.home, 'none');
    try {
      await waitForVideoFrom([ann], ['Ben'], 15000, "Ben's video on Ann's tile after the restart");
      await waitForVideoFrom([ben], ['Ann'], 15000, "Ann's video on Ben's tile after the restart");
    } catch (err) {
      throw new Error(`${err.message}\n${story(ann, joined)}\n${story(ben, joined)}`);
    }
    const after_ = await waitForSelectedPairs([ann, ben], 1);
    // Between two symmetric NATs only a relay connects: one end's selected
    // candidate is a TURN allocation, and since ICE restarted it is one made
    // after the welcome's credentials expired (a port no allocation had before).
    const relayPorts = (pairs) => ['Ann', 'Ben'].flatMap((n) => [pairs[n][0].local, pairs[n][0].remote])
      .filter((c) => c.type === 'relay').map((c) => `${c.address}:${c.port}`);
    const old = relayPorts(before);
    const now = relayPorts(after_);
    assert.ok(now.length > 0, `the pair goes through TURN after the restart (${JSON.stringify(after_)})`);
    assert.ok(now.some((a) => !old.includes(a)), `a new TURN allocation carries the pair (before ${old}, after ${now})\n${story(ann, joined)}\n${story(ben, joined)}`);
  } finally {
    await teardown();
  }
});

test('Firefox ESR behind a symmetric NAT and Chromium behind a cone NAT: video both ways through TURN', T, async () => {
  lab = buildLab([{ nat: 'cone' }, { nat: 'symmetric' }]);
  try {
    const turn = await startCoturn(lab);
    const srv = await startLabServer(lab, { turn });
    const chromiumUser = await homeParticipant(lab.homes[0], 'Chromium');
    const firefoxUser = await homeFirefoxParticipant(lab.homes[1], 'Firefox');
    const id = await createMeeting(chromiumUser);
    await joinAll(srv, [chromiumUser, firefoxUser], id);
    const pairs = await waitForSelectedPairs([chromiumUser, firefoxUser], 1);
    for (const p of [chromiumUser, firefoxUser]) {
      const { local, remote } = pairs[p.name][0];
      assert.ok(local.type === 'relay' || remote.type === 'relay', `${p.name}: the pair goes through TURN (${JSON.stringify(pairs[p.name][0])})`);
    }
  } finally {
    await teardown();
  }
});

test('a starved CPU: six Chromium pages, each in its own home, on two cores join at once: every pair connects, none is given up, no tile stays black', { ...T, timeout: 300000 }, async (t) => {
  lab = buildLab(Array.from({ length: 6 }, () => ({ nat: 'cone' })));
  try {
    const srv = await startLabServer(lab);
    const names = ['Ada', 'Ben', 'Cai', 'Dee', 'Eli', 'Fay'];
    // Chromium's default camera rate (20 fps), as in the web benchmark.
    const ps = await inHomes(names, { fakeCameraFps: null });
    const id = await createMeeting(ps[0]);
    // Everyone waits in the lobby with a name typed, then all press Join together.
    for (const p of ps) {
      await p.page.goto(srv.meetingUrl(id));
      await fillLabelled(p, 'Your name', p.name);
    }
    await Promise.all(ps.map((p) => clickButton(p, 'Join', 30000)));
    // Every tile shows video (on a starved CPU a tile may skip a beat now and
    // then: what must never happen is one that stays black)…
    let tiles = [];
    await waitFor(async () => {
      tiles = await Promise.all(ps.map((p) => remoteTiles(p)));
      return tiles.every((t) => t.length === 5 && t.every((x) => x.frames > 0));
    }, 90000, 'every tile of every page to show video', {
      every: 1000,
      describe: () => tiles.map((t, i) => `${ps[i].name}: ${t.map((x) => `${x.name}=${x.frames}`).join(' ')}`).join('; '),
    });
    // …and none stays frozen: every tile decodes new frames within 30 s (how
    // many is the CPU's business: issue 14). On two cores a page's renderer is
    // sometimes starved for seconds, long enough for its pairs' ICE consent
    // to lapse; they reconnect (a disconnected pair waits, a failed one is
    // restarted or rebuilt), and a tile can be still for that long. What must
    // never happen is a tile that does not come back. Each tile is watched
    // from the same moment, and how long the slowest one took is reported.
    const before = await Promise.all(ps.map((p) => framesByName(p)));
    const watchFrom = Date.now();
    const stillAfter = new Map();  // "Dee←Fay" → ms until its first new frame
    const pending = () => ps.flatMap((p) => names.filter((n) => n !== p.name && !stillAfter.has(`${p.name}←${n}`)).map((n) => [p, n]));
    let after_ = before;
    await waitFor(async () => {
      after_ = await Promise.all(ps.map((p) => framesByName(p)));
      for (const [p, n] of pending()) {
        const i = ps.indexOf(p);
        if (after_[i][n] > before[i][n]) stillAfter.set(`${p.name}←${n}`, Date.now() - watchFrom);
      }
      return pending().length === 0;
    }, 30000, 'every tile to decode new frames', { every: 500 }).catch(() => {});
    const frozen = pending().map(([p, n]) => `${p.name}←${n} (${before[ps.indexOf(p)][n]}→${after_[ps.indexOf(p)][n]} in 30 s)`);
    const slowest = [...stillAfter].sort((a, b) => b[1] - a[1])[0];
    if (slowest) t.diagnostic(`every tile decoding: the slowest to show a new frame was ${slowest[0]} after ${slowest[1]} ms`);
    // What the pages received against what they draw (issue 14), and the CPU steps their cores took.
    for (const [i, p] of ps.entries()) {
      const steps = p.logs.filter((l) => l.machine === 'cpu-load').map((l) => `${l.to} (${l.detail})`);
      t.diagnostic(`${p.name}: ${tiles[i].map((x) => `${x.name} ${x.height}p`).join(' ')}; CPU steps: ${steps.join(', ') || 'none'}`);
    }
    const frozenAt = ps.filter((p) => frozen.some((f) => f.startsWith(`${p.name}←`)));
    assert.deepEqual(frozen, [], `every tile keeps decoding\n${frozenAt.map((p) => story(p, p.logs[0]?.at ?? 0).split('\n').slice(-40).join('\n')).join('\n')}`);
    for (const p of ps) {
      const givenUp = p.logs.filter((l) => l.machine === 'peer-negotiation' && (l.to === 'unreachable' || l.to === 'retrying'));
      assert.deepEqual(givenUp.map((l) => `${l.subject}: ${l.from}->${l.to} ${l.detail}`), [], `${p.name} gave no pair up`);
      const cantReach = await p.page.evaluate(() => [...document.querySelectorAll('.tile *')]
        .filter((e) => e.children.length === 0 && /Can't reach/.test(e.textContent) && e.checkVisibility()).map((e) => e.textContent));
      assert.deepEqual(cantReach, [], `${p.name}'s page shows no "Can't reach" on a tile`);
    }
  } finally {
    await teardown();
  }
});
