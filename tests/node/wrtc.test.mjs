// Real WebRTC (@roamhq/wrtc) through the built package and the real server:
// four participants — three in this process, one in a child process
// (wrtc-participant.mjs) so it can be dropped uncleanly with SIGKILL.
//
//   node --test --test-concurrency=1 tests/node/wrtc.test.mjs
//
// The tests run in order and share the meeting:
//   1. everyone connects to everyone, app data reaches everyone, codes match;
//   2. every in-process connection restarts ICE at once: offers cross on
//      each pair (glare with explicit rollback), the mesh stays whole;
//   3. the server is killed (-9): data channels keep carrying app data;
//   4. restarted on the same port and --db: the server knows nobody but
//      takes the resume tokens it signed back, so everyone resumes under
//      the same id and every connection carries on (no peer-left, no
//      connection rebuilt);
//   5. whatever happened in 4, the mesh is whole again and app data crosses it;
//   6. the child participant is SIGKILLed: the others see peer-left
//      `disconnected` after the resume grace (--resume-grace 1);
//   7. everyone leaves: no core object and no open RTCPeerConnection remain.

import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import wrtc from '@roamhq/wrtc';
import WebSocket from 'ws';
import { joinMeeting, liveCoreObjects } from '../../dist/meshmeet.js';
import {
  ROOT, Recorder, WRTC_CORE, freePort, newMeetingId, sendToEach, sleep, startServer, tempDir, track, trackedPeerConnections, waitFor,
  withTimeout,
} from './harness.mjs';

const T = { timeout: 60000 };
const GRACE_S = 3;
const CORE = WRTC_CORE;

// Every RTCPeerConnection made in this process, to check they all end closed.
const { pcs, TrackedRTCPeerConnection } = trackedPeerConnections(wrtc.RTCPeerConnection);

/** A participant in this process. */
class Local {
  constructor(name) {
    this.name = name;
    this.rec = new Recorder(name);
  }
  async join(srv, meeting, seed) {
    const m = await withTimeout(
      joinMeeting({ server: srv.url, meeting, name: this.name, RTCPeerConnection: TrackedRTCPeerConnection, WebSocket, coreOptions: CORE, seed, logger: this.rec.logger }),
      10000,
      `${this.name} to join`,
    );
    this.meeting = m;
    this.rec.attach(m);
    return this;
  }
  get id() {
    return this.meeting.self.id;
  }
  get state() {
    return this.meeting.state;
  }
  peerIds() {
    return [...this.meeting.peers.keys()].sort();
  }
  /** meeting.send(data) to each of the peer ids `to` (sendToEach). */
  send(data, to, ms) {
    return sendToEach(this.meeting, data, to, ms);
  }
  async leave() {
    await this.meeting.leave();
  }
  dispose() {
    this.meeting?.dispose();
  }
}

/** A participant in a child process (can be SIGKILLed). */
class Remote {
  constructor(name) {
    this.name = name;
    this.rec = new Recorder(name);
    this._peers = new Map();
    this._sends = new Map(); // request id → {resolve, reject} of send()
    this._sent = 0;
    this.state = 'idle';
    this.id = null;
  }
  join(srv, meeting, seed) {
    const arg = JSON.stringify({ server: srv.url, meeting, name: this.name, coreOptions: CORE, seed });
    this.proc = track(fork(join(ROOT, 'tests', 'node', 'wrtc-participant.mjs'), [arg], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    this.exited = new Promise((r) => this.proc.once('exit', (code, signal) => r({ code, signal })));
    const joined = new Promise((resolve, reject) => {
      this.proc.on('message', (msg) => {
        if (msg.type === 'joined') {
          this.id = msg.self.id;
          this.state = 'joined';
          for (const p of msg.peers) this._peers.set(p.id, p);
          resolve(this);
        } else if (msg.type === 'error') {
          reject(new Error(`${this.name} could not join: ${msg.code} ${msg.message}`));
        } else if (msg.type === 'event') {
          this._apply(msg.event, msg.data);
          this.rec.push(msg.event, msg.data);
        } else if (msg.type === 'sent' || msg.type === 'send-failed') {
          const pending = this._sends.get(msg.id);
          this._sends.delete(msg.id);
          if (msg.type === 'sent') pending?.resolve();
          else pending?.reject(new Error(`${this.name} (child) could not send: ${msg.code} ${msg.message}`));
        }
      });
      this.exited.then((e) => reject(new Error(`${this.name} exited before joining: ${JSON.stringify(e)}`)));
    });
    return withTimeout(joined, 15000, `${this.name} (child) to join`);
  }
  _apply(type, e) {
    if (type === 'state') this.state = e.state;
    if (type === 'welcomed') this.id = e.self;
    if (type === 'peer-joined') this._peers.set(e.id, e);
    if (type === 'peer-left') this._peers.delete(e.peer.id);
  }
  peerIds() {
    return [...this._peers.keys()].sort();
  }
  /** As Local's, in the child. */
  send(data, to, ms = 5000) {
    const id = ++this._sent;
    const done = new Promise((resolve, reject) => this._sends.set(id, { resolve, reject }));
    this.proc.send({ cmd: 'send', id, data, to, ms });
    return withTimeout(done, ms + 5000, `${this.name} (child) to send`);
  }
  async kill9() {
    this.proc.kill('SIGKILL');
    return withTimeout(this.exited, 5000, `${this.name} to die`);
  }
  async leave() {
    if (this.proc.exitCode !== null || this.proc.signalCode) return;
    this.proc.send({ cmd: 'leave' });
    await withTimeout(this.exited, 5000, `${this.name} to leave and exit`);
  }
  dispose() {
    if (this.proc && this.proc.exitCode === null && !this.proc.signalCode) this.proc.kill('SIGKILL');
  }
}

let srv;
let meetingId;
const A = new Local('ada');
const B = new Local('bob');
const C = new Local('cyd');
const D = new Remote('dan'); // in a child process
const all = [A, B, C, D];
const marks = new Map(); // participant → index into its events at the server kill
let killedAt = 0;
let idsBefore = null;
let pcsAtKill = 0;

before(async () => {
  // An explicit port, so the restarted server is reachable where the clients reconnect.
  const port = await freePort();
  srv = await startServer({ port, db: join(tempDir(), 'meshmeet.db'), args: ['--resume-grace', String(GRACE_S)] });
  meetingId = await newMeetingId(srv, 'wrtc');
});

after(async () => {
  for (const p of all) p.dispose();
  await srv?.stop();
});

function report(ps = all) {
  return ps.map((p) => `${p.rec.summary()}\n${p.rec.tail(15)}`).join('\n');
}

/** Pairs not connected both ways, and rosters that are not exactly the others. */
function meshProblems(ps) {
  const out = [];
  for (const a of ps) {
    const want = ps.filter((p) => p !== a).map((p) => p.id).sort();
    if (JSON.stringify(a.peerIds()) !== JSON.stringify(want)) out.push(`${a.name}.peers = ${a.peerIds()} (want ${want})`);
    for (const b of ps) if (a !== b && a.rec.peerState(b.id) !== 'connected') out.push(`${a.name} sees ${b.name} as ${a.rec.peerState(b.id)}`);
  }
  return out;
}

/** Everyone sends "<tag> from <name>" to each of the others (meeting.send); each gets all of them. */
async function dataRound(ps, tag, ms = 10000) {
  await Promise.all(ps.map((p) => p.send(`${tag} from ${p.name}`, ps.filter((o) => o !== p).map((o) => o.id), ms)));
  const missing = () => {
    const out = [];
    for (const a of ps) for (const b of ps) if (a !== b && !a.rec.dataFrom(b.id).includes(`${tag} from ${b.name}`)) out.push(`${a.name} lacks "${tag}" from ${b.name}`);
    return out;
  };
  await waitFor(() => missing().length === 0, ms, `"${tag}" to reach everyone`, { describe: () => missing().join('\n') });
}

test('4 participants (one in a child process): every pair connects, app data reaches the other three, codes match pairwise', T, async () => {
  // Joined together: both ends of every pair make their connection at once
  // with real WebRTC (the impolite end offers; glare comes in the next test).
  await Promise.all([A.join(srv, meetingId, 1), B.join(srv, meetingId, 2), C.join(srv, meetingId, 3), D.join(srv, meetingId, 4)]);
  await waitFor(() => meshProblems(all).length === 0, 30000, 'every pair connected', { describe: () => `${meshProblems(all).join('\n')}\n${report()}` });
  await dataRound(all, 'hello');
  // The code takes one more round trip on the connection's own channel
  // (commit, nonce, reveal) than app data on the app channels: it may land
  // a moment after "hello" did.
  const codeless = () => all.flatMap((a) => all.filter((b) => b !== a && !/^\d{3} \d{3}$/.test(a.rec.code(b.id) ?? '')).map((b) => `${a.name} has no code for ${b.name}`));
  await waitFor(() => codeless().length === 0, 5000, 'a code for every peer', { describe: () => codeless().join('\n') });
  for (const a of all)
    for (const b of all) {
      if (a === b) continue;
      assert.match(a.rec.code(b.id) ?? '', /^\d{3} \d{3}$/, `${a.name} has a code for ${b.name}`);
      assert.equal(a.rec.code(b.id), b.rec.code(a.id), `${a.name} and ${b.name} read the same verification code`);
      const connected = a.rec.of('peer-state', (e) => e.peer === b.id && e.state === 'connected');
      assert.equal(connected.length, 1, `${a.name} saw ${b.name} connect once`);
    }
  for (const p of all) assert.deepEqual(p.rec.of('error'), [], `${p.name} saw no error`);
  // A compared the code with B: B is verified on A's side only.
  const last = (p, peer) => p.rec.of('verification-code', (e) => e.peer === peer.id).at(-1);
  assert.equal(last(A, B).trust, 'unverified');
  assert.equal(A.meeting.markVerified('no-such-peer'), false, 'nobody to vouch for');
  assert.equal(A.meeting.markVerified(B.id), true);
  assert.deepEqual([last(A, B).code, last(A, B).trust], [A.rec.code(B.id), 'verified'], 'the code event again, now verified');
  assert.equal(last(B, A).trust, 'unverified', 'B has not vouched for A');
  // No warning at all. node-webrtc fires negotiationneeded late (after an
  // explicit rollback, with the peer's offer already queued); the core ignores
  // it outside stable, so no operation answers from the wrong state.
  const warnings = [A, B, C].flatMap((p) => p.rec.logs.filter((l) => l.level === 'warn').map((l) => `${p.name}: ${l.machine}/${l.subject} ${l.detail}`));
  assert.deepEqual(warnings, [], 'no core warnings during a clean join');
});

// Joining makes no offers cross (the impolite end of each pair opens it), so
// glare is made here: every connection in this process restarts ICE at the
// same instant, and both ends of each in-process pair offer at once.
// node-webrtc has no implicit rollback, so the polite end rolls back
// explicitly, and then fires negotiationneeded while the peer's offer is
// already queued: the core must ignore it (outside stable), or the shim
// answers from the wrong operation and the core's own answer fails.
test('ICE restarted at both ends of every pair at once (glare, explicit rollback): the mesh stays whole, no core warning', T, async () => {
  const marks = new Map([A, B, C].map((p) => [p, p.rec.logs.length]));
  const open = pcs.filter((pc) => pc.signalingState !== 'closed');
  assert.ok(open.length >= 6, `the in-process connections (${open.length})`);
  for (const pc of open) pc.restartIce();
  const glare = () => [A, B, C].flatMap((p) => p.rec.logs.slice(marks.get(p)).filter((l) => /^glare:/.test(l.detail)));
  await waitFor(() => glare().length >= 3, 10000, 'offers to cross', { describe: () => report() });
  await sleep(1000);
  await waitFor(() => meshProblems(all).length === 0, 30000, 'every pair connected after the restarts', { describe: () => `${meshProblems(all).join('\n')}\n${report()}` });
  await dataRound(all, 'after the crossing restarts');
  const warnings = [A, B, C].flatMap((p) => p.rec.logs.slice(marks.get(p)).filter((l) => l.level === 'warn').map((l) => `${p.name}: ${l.machine}/${l.subject} ${l.detail}`));
  assert.deepEqual(warnings, [], 'no core warnings while offers crossed');
  for (const p of all) assert.deepEqual(p.rec.of('error'), [], `${p.name} saw no error`);
});

test('server killed (-9): the data channels keep carrying app data while signaling is down', T, async () => {
  idsBefore = new Map(all.map((p) => [p, p.id]));
  for (const p of all) marks.set(p, p.rec.events.length);
  pcsAtKill = pcs.length;
  killedAt = Date.now();
  await srv.kill9();
  await waitFor(() => all.every((p) => p.state === 'reconnecting' || p.state === 'connecting'), 5000, 'everyone to notice the server is gone', {
    describe: () => all.map((p) => `${p.name}: ${p.state}`).join(', '),
  });
  await dataRound(all, 'during the outage', 8000);
  assert.ok(srv.proc === null, 'the server is still down');
  await sleep(300);
  await srv.restart();
  // Welcomed since the kill, not just 'joined': the child's state comes over
  // IPC and may still read 'joined' from before the kill.
  const welcomedAgain = (p) => p.rec.events.slice(marks.get(p)).some((e) => e.type === 'welcomed');
  await waitFor(() => all.every((p) => p.state === 'joined' && welcomedAgain(p)), 10000, 'everyone to be joined again', {
    describe: () => all.map((p) => `${p.name}: ${p.state}${welcomedAgain(p) ? ', welcomed' : ''}`).join(', '),
  });
});

// A restarted server knows nobody (participants never reach disk), but the
// resume tokens are signed with the key it keeps beside its database: every
// client resumes under its id, and every connection carries on.
test('server restarted on the same port and --db: everyone resumes under the same id and every connection carries on', T, async () => {
  assert.ok(idsBefore, 'the previous test killed the server');
  const problems = [];
  for (const p of all) {
    const since = p.rec.events.slice(marks.get(p));
    const states = since.filter((e) => e.type === 'state').map((e) => e.state);
    if (states[0] !== 'reconnecting' || states.at(-1) !== 'joined') problems.push(`${p.name}: states ${states}`);
    const welcomes = since.filter((e) => e.type === 'welcomed').map((e) => e.how);
    if (welcomes.join() !== 'resumed') problems.push(`${p.name}: welcomed as ${welcomes.join() || 'nothing'} (want resumed)`);
    if (p.id !== idsBefore.get(p)) problems.push(`${p.name}: a new id ${p.id} (was ${idsBefore.get(p)})`);
    const left = since.filter((e) => e.type === 'peer-left').map((e) => `${e.peer}(${e.reason})`);
    if (left.length) problems.push(`${p.name}: peer-left ${left.join(', ')}`);
    const joined = since.filter((e) => e.type === 'peer-joined').map((e) => e.id);
    if (joined.length) problems.push(`${p.name}: peer-joined ${joined.join(', ')} for peers it never lost`);
    const rebuilt = since.filter((e) => e.type === 'peer-state' && (e.state === 'closed' || e.state === 'connecting')).map((e) => `${e.peer}=${e.state}`);
    if (rebuilt.length) problems.push(`${p.name}: connections rebuilt (${rebuilt.join(', ')})`);
    const ids = all.filter((q) => q !== p).map((q) => idsBefore.get(q)).sort();
    if (p.peerIds().join() !== ids.join()) problems.push(`${p.name}: peers ${p.peerIds()} (want ${ids})`);
  }
  if (pcs.length !== pcsAtKill) problems.push(`${pcs.length - pcsAtKill} RTCPeerConnection(s) made after the restart`);
  assert.deepEqual(problems, [], `after the restart (killed ${Date.now() - killedAt} ms ago):\n${problems.join('\n')}\n${report()}`);
  // Past the grace that followed the restart, nobody is forgotten either.
  await sleep(GRACE_S * 1000 + 500);
  for (const p of all) assert.deepEqual(p.rec.events.slice(marks.get(p)).filter((e) => e.type === 'peer-left'), [], `${p.name}: nobody left`);
});

test('after the restart the mesh is whole again and app data reaches everyone', T, async () => {
  await waitFor(() => meshProblems(all).length === 0, 30000, 'the mesh after the restart', { describe: () => `${meshProblems(all).join('\n')}\n${report()}` });
  await dataRound(all, 'after the restart');
  for (const a of all)
    for (const b of all) if (a !== b) assert.equal(a.rec.code(b.id), b.rec.code(a.id), `${a.name}/${b.name} codes still match`);
});

test(`a participant dropped uncleanly (SIGKILL): the others see peer-left "disconnected" after the ${GRACE_S} s grace`, T, async () => {
  const gone = D.id;
  const others = [A, B, C];
  const t0 = Date.now();
  await D.kill9();
  for (const p of others) {
    await waitFor(() => p.rec.of('peer-left', (e) => e.peer === gone).length > 0, 15000, `${p.name} to see ${D.name} leave`, { describe: () => report([p]) });
    const [left] = p.rec.of('peer-left', (e) => e.peer === gone);
    assert.equal(left.reason, 'disconnected', `${p.name}: reason`);
    assert.ok(left.t + p.rec.t0 - t0 >= GRACE_S * 1000 - 100, `${p.name} was told only after the grace (${left.t + p.rec.t0 - t0} ms)`);
  }
  await waitFor(() => meshProblems(others).length === 0, 15000, 'the three remaining to stay connected', { describe: () => meshProblems(others).join('\n') });
  await dataRound(others, 'after the drop');
});

test('everyone leaves: no core object and no open RTCPeerConnection remain', T, async () => {
  await withTimeout(Promise.all([A, B, C].map((p) => p.leave())), 5000, 'leave');
  for (const p of [A, B, C]) assert.equal(p.state, 'left');
  assert.equal(await liveCoreObjects(), 0);
  assert.ok(pcs.length >= 6, `peer connections were made (${pcs.length})`);
  const open = pcs.filter((pc) => pc.signalingState !== 'closed' || pc.connectionState !== 'closed');
  assert.equal(open.length, 0, `every RTCPeerConnection is closed (${open.map((pc) => `${pc.signalingState}/${pc.connectionState}`)})`);
  const status = await srv.stop();
  assert.deepEqual(status, { code: 0, signal: null }, 'the restarted server exits 0 on SIGTERM');
});
