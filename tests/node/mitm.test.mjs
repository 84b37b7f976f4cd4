// The verification code against an active man-in-the-middle. A hostile
// signaling server (mitm-relay.mjs) sits between ada and bob: it holds a real
// WebRTC connection with each, passes their data-channel messages (the vc-*
// exchange, app data) from one to the other, and lays out the a=fingerprint lines
// of the SDPs it sends with one trick per test. Whatever the trick, ada and
// bob must not read the same code for each other, or one of them must get a
// `verification-failed` error about the other. Each test also checks that
// the attack really happened: the relay's two legs connected (and ada and
// bob each saw "the other" connected and app data passed), or the relay's
// fingerprint was sent and refused with `verification-failed`.
//
//   flock /tmp/meshmeet-heavy.lock node --test tests/node/mitm.test.mjs
//
// Real WebRTC (@roamhq/wrtc) through the built package (dist/) and the real
// server. Ids are random, so which of the two is the impolite end (offers
// first, commits to its nonce) varies from run to run; failure messages say.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import wrtc from '@roamhq/wrtc';
import WebSocket from 'ws';
import { joinMeeting } from '../../dist/meshmeet.js';
import { Recorder, WRTC_CORE, newMeetingId, sendToEach, sleep, startServer, trackedPeerConnections, waitFor, withTimeout } from './harness.mjs';
import { MitmRelay } from './mitm-relay.mjs';

const T = { timeout: 60000 };
const CORE = { ...WRTC_CORE, connectWatchdogMs: 20000 };
const SETTLE_MS = 30000;  // for the codes or a verification-failed
const LATE_EVENTS_MS = 1000;  // then for anything the exchange still sends

// Every RTCPeerConnection made in this process (the participants' and the relay's), to check they all end closed.
const { pcs, TrackedRTCPeerConnection } = trackedPeerConnections(wrtc.RTCPeerConnection);

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

async function join(relay, meeting, name, seed) {
  const rec = new Recorder(name);
  const m = await withTimeout(
    joinMeeting({ server: relay.url, meeting, name, RTCPeerConnection: TrackedRTCPeerConnection, WebSocket, coreOptions: CORE, seed, logger: rec.logger }),
    10000,
    `${name} to join through the relay`,
  );
  rec.attach(m);
  rec.id = m.self.id;
  return rec;
}

/**
 * ada and bob (and cyd, with `third`) join one meeting through a relay
 * attacking ada–bob with `trick`; body({relay, a, b, c}) runs; everything
 * is closed afterwards, whatever happened.
 */
async function underAttack({ trick, active = true, third = false }, body) {
  const relay = await MitmRelay.start({ upstream: srv.url, pair: ['ada', 'bob'], trick, active, RTCPeerConnection: TrackedRTCPeerConnection });
  const people = [];
  try {
    const meeting = await newMeetingId(srv, `mitm ${trick}`);
    for (const [i, name] of ['ada', 'bob', ...(third ? ['cyd'] : [])].entries()) people.push(await join(relay, meeting, name, i + 1));
    await body({ relay, a: people[0], b: people[1], c: people[2] });
  } finally {
    for (const p of people) p.meeting.dispose();
    await relay.close();
  }
}

/** `rec`'s verification-failed errors about `peer`, from wall-clock time `since` on. */
function failuresAbout(rec, peer, since = 0) {
  return rec.of('error', (e) => e.code === 'verification-failed' && e.peer === peer.id && rec.t0 + e.t >= since);
}

/** The last code `rec` got for `peer` from `since` on (undefined if none). */
function codeFor(rec, peer, since = 0) {
  return rec.of('verification-code', (e) => e.peer === peer.id && rec.t0 + e.t >= since).at(-1)?.code;
}

function outcome(a, b, since) {
  return {
    codeA: codeFor(a, b, since),
    codeB: codeFor(b, a, since),
    failures: [
      ...failuresAbout(a, b, since).map((e) => `${a.name}: ${e.message}`),
      ...failuresAbout(b, a, since).map((e) => `${b.name}: ${e.message}`),
    ],
  };
}

function explain(relay, a, b, since) {
  const impolite = a.id > b.id ? a : b;
  const lines = (p) =>
    relay.descriptionsSentTo(p.name).map((d) => `  to ${p.name} (${d.type}, gen ${d.gen}):\n    ${d.fingerprintLines.join('\n    ')}`);
  return [
    `impolite end (offers first, commits): ${impolite.name}`,
    `outcome: ${JSON.stringify(outcome(a, b, since))}`,
    `legs: ${JSON.stringify(relay.legs())}`,
    'fingerprint lines the relay sent:',
    ...lines(a),
    ...lines(b),
    a.summary(),
    a.tail(25),
    b.summary(),
    b.tail(25),
    relay.report(),
  ].join('\n');
}

/** Waits until a code or a verification-failed settles the pair, then a little longer. */
async function settle(relay, a, b, since = 0) {
  await waitFor(
    () => {
      const o = outcome(a, b, since);
      return o.failures.length > 0 || (o.codeA && o.codeB);
    },
    SETTLE_MS,
    `a verification code at both ends or a verification-failed (${relay.legs().length} legs)`,
    { describe: () => explain(relay, a, b, since) },
  );
  await sleep(LATE_EVENTS_MS);
}

function assertNoSharedCode(relay, a, b, since = 0) {
  const o = outcome(a, b, since);
  const shared = o.codeA !== undefined && o.codeA === o.codeB;
  assert.ok(
    !shared || o.failures.length > 0,
    `${a.name} and ${b.name} both read ${o.codeA} with the relay in the middle and no verification-failed\n${explain(relay, a, b, since)}`,
  );
}

/**
 * The attack happened: both legs connected and each participant saw the
 * other connected (and app data crossed the relay), or a participant the relay
 * sent its fingerprint to refused it with verification-failed. Returns which,
 * in words.
 */
async function assertAttacked(relay, a, b, since = 0) {
  const legsConnected = () => relay.legs().length === 2 && relay.legs().every((l) => l.everConnected);
  const refusedBy = () =>
    [[a, b], [b, a]].filter(([p, q]) => relay.descriptionsSentTo(p.name).length > 0 && failuresAbout(p, q, since).length > 0).map(([p]) => p.name);
  await waitFor(() => legsConnected() || refusedBy().length > 0, 5000, "the relay's legs connected, or its fingerprint refused", {
    describe: () => explain(relay, a, b, since),
  });
  if (!legsConnected()) return `the relay's description was refused by ${refusedBy().join(' and ')}`;
  assert.equal(a.peerState(b.id), 'connected', `${a.name} sees "${b.name}" (the relay) connected\n${explain(relay, a, b, since)}`);
  assert.equal(b.peerState(a.id), 'connected', `${b.name} sees "${a.name}" (the relay) connected\n${explain(relay, a, b, since)}`);
  await sendToEach(a.meeting, 'through the middle', [b.id]);
  await waitFor(() => b.dataFrom(a.id).includes('through the middle'), 5000, 'a message from ada to reach bob through the relay', {
    describe: () => explain(relay, a, b, since),
  });
  return "both of the relay's legs connected and app data crossed it";
}

/** One line for the test's output: what the attack led to. */
function verdict(a, b, since, attacked) {
  const { codeA, codeB, failures } = outcome(a, b, since);
  const impolite = a.id > b.id ? a.name : b.name;
  return `impolite end ${impolite}; ${attacked}; ${a.name} reads ${codeA ?? 'no code'}, ${b.name} reads ${codeB ?? 'no code'}; ${failures.join(' / ') || 'no verification-failed'}`;
}

for (const trick of ['replace', 'honest-first', 'honest-last-session', 'duplicate', 'extra-algorithm']) {
  test(`${trick}: ada and bob do not read the same code, or one is told verification-failed`, T, (t) =>
    underAttack({ trick, third: trick === 'replace' }, async ({ relay, a, b, c }) => {
      await settle(relay, a, b);
      assertNoSharedCode(relay, a, b);
      t.diagnostic(verdict(a, b, 0, await assertAttacked(relay, a, b)));
      if (!c) return;
      // The relay is transparent outside the pair: cyd's connections are direct and verified.
      for (const p of [a, b]) {
        await waitFor(() => codeFor(p, c) && codeFor(p, c) === codeFor(c, p), 20000, `${p.name} and cyd to read the same code`, {
          describe: () => `${p.summary()}\n${c.summary()}`,
        });
        assert.equal(c.peerState(p.id), 'connected');
      }
    }),
  );
}

test('fresh-connection: after a direct connection with matching codes, the relay forces a fresh one into its middle: its codes differ or fail', T, (t) =>
  underAttack({ trick: 'replace', active: false }, async ({ relay, a, b }) => {
    await waitFor(() => codeFor(a, b) && codeFor(a, b) === codeFor(b, a), 20000, 'the direct connection and matching codes', {
      describe: () => explain(relay, a, b, 0),
    });
    assert.equal(relay.legs().length, 0, 'the relay was transparent so far');
    const direct = codeFor(a, b);
    const since = Date.now();
    relay.goActive();
    await settle(relay, a, b, since);
    assertNoSharedCode(relay, a, b, since);
    const attacked = await assertAttacked(relay, a, b, since);
    assert.ok(relay.legs().every((l) => l.everConnected), `the fresh connections ended at the relay\n${explain(relay, a, b, since)}`);
    t.diagnostic(`direct: both read ${direct}; then ${verdict(a, b, since, attacked)}`);
  }),
);

test('every RTCPeerConnection (participants and relay legs) is closed', () => {
  assert.ok(pcs.length > 0, 'peer connections were made');
  const open = pcs.filter((pc) => pc.signalingState !== 'closed');
  assert.equal(open.length, 0, `every RTCPeerConnection is closed (${open.map((pc) => `${pc.signalingState}/${pc.connectionState}`)})`);
});
