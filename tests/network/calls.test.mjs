// Calls across real networks: homes behind NAT routers and firewalls in the
// network lab (lab.mjs), the real server with its built-in STUN, coturn from
// the config the project ships, and Chromium in every home. Each scenario
// asserts what a person sees (every tile decoding video) and how it got
// there (the selected candidate pair of every connection, from getStats).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { buildLab, labUnavailable } from './lab.mjs';
import {
  startLabServer, startCoturn, homeParticipant, createMeeting, waitForSelectedPairs, remoteCandidates,
  candidateType, closeLab, sleep,
} from './harness.mjs';
import { joinViaUi, waitForDecoding, decodingDiagnostics } from '../browser/harness.mjs';

const skip = labUnavailable();
const T = { timeout: 180000, skip: skip ?? false };

let lab = null;
async function teardown() {
  await closeLab();
  lab?.teardown();
  lab = null;
}
after(teardown);

/** Everyone joins `id` in order; resolves once every page decodes every other. */
async function joinAll(srv, participants, id) {
  for (const p of participants) await joinViaUi(p, srv.meetingUrl(id), p.name);
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
    const [alice, bob] = [await homeParticipant(lab.homes[0], 'Alice'), await homeParticipant(lab.homes[1], 'Bob')];
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
    const ps = [];
    for (const [i, name] of names.entries()) ps.push(await homeParticipant(lab.homes[i], name));
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
    const ps = [];
    for (const [i, name] of ['Ann', 'Ben', 'Cat'].entries()) ps.push(await homeParticipant(lab.homes[i], name));
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
    }
    // The page says so.
    for (const p of ps) assert.ok(await p.page.getByText(/IP addresses hidden/i).first().isVisible(), `${p.name}'s page says the meeting hides IP addresses`);
  } finally {
    await teardown();
  }
});

export { sleep };
