// Shared helpers for the tests/node suites: the real signaling server as a
// child process, bounded waits, and a recorder of a Meeting's events.
//
// Every wait here is bounded. Servers (and any other child process handed to
// track()) are SIGKILLed on process exit if an after hook did not stop them
// (../support/server.mjs).

import { join } from 'node:path';
import { ROOT, sleep, withTimeout, waitFor } from '../support/wait.mjs';
import * as server from '../support/server.mjs';
import { track, tempDir, freePort } from '../support/server.mjs';

export { ROOT, sleep, withTimeout, waitFor, track, tempDir, freePort };
export const DIST = join(ROOT, 'dist');
export const BIN = server.SERVER_BIN;

/**
 * Starts the server on 127.0.0.1, serving an empty static dir. opts.port
 * (default 0 = any), opts.db (default a temp file), opts.args (extra flags).
 * Resolves once it logs `listening`. The returned object can stop(), kill9()
 * and restart() (same port, same db, same flags).
 */
export async function startServer({ port = 0, db, args = [], startTimeoutMs = 10000 } = {}) {
  return server.startServer({ port, db, args: ['--static', tempDir(), ...args], startTimeoutMs });
}

/**
 * Core timings for real WebRTC (@roamhq/wrtc) in this process: fast
 * reconnects and restarts, a connect watchdog long enough for a loaded CI
 * machine. A test overrides what it needs.
 */
export const WRTC_CORE = {
  reconnectBaseMs: 50,
  reconnectCapMs: 300,
  iceDisconnectedGraceMs: 1000,
  iceRestartBaseMs: 100,
  connectWatchdogMs: 10000,
  statsIntervalMs: 1000,
};

/**
 * An RTCPeerConnection class derived from `Base` that records every
 * instance in `pcs`, so a test can check they all end closed.
 */
export function trackedPeerConnections(Base) {
  const pcs = [];
  class TrackedRTCPeerConnection extends Base {
    constructor(config) {
      super(config);
      pcs.push(this);
    }
  }
  return { pcs, TrackedRTCPeerConnection };
}

/** POST /api/meetings on the server; returns the meeting id. */
export async function newMeetingId(srv, name = 'node test') {
  const res = await withTimeout(
    fetch(`${srv.url}/api/meetings`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name }) }),
    5000,
    'POST /api/meetings',
  );
  if (res.status !== 201) throw new Error(`POST /api/meetings → ${res.status} ${await res.text()}`);
  return (await res.json()).id;
}

const EVENT_TYPES = ['state', 'welcomed', 'peer-joined', 'peer-left', 'peer-state', 'track', 'data', 'peer-media', 'quality', 'verification-code', 'error'];

/**
 * Records what one participant sees, as plain objects with a `t` (ms since
 * the recorder started) and the event `type`:
 *   state {state, attempt} · welcomed {self, how} · peer-joined {peer} ·
 *   peer-left {peer, reason} · peer-state {peer, state} · track {peer, kind, trackId} ·
 *   data {from, data, reliable} · peer-media {peer, name, audio, video, screen} · quality {peer, level, rttMs} ·
 *   verification-code {peer, code, trust} · error {code, message, peer}
 * Core log entries go to `logs` (bounded) for failure reports.
 */
export class Recorder {
  constructor(name) {
    this.name = name;
    this.t0 = Date.now();
    this.events = [];
    this.logs = [];
    this.meeting = null;
    this.logger = (entry) => {
      this.logs.push({ t: Date.now() - this.t0, ...entry });
      if (this.logs.length > 4000) this.logs.splice(0, 1000);
    };
  }

  attach(meeting) {
    this.meeting = meeting;
    for (const type of EVENT_TYPES) meeting.on(type, (e) => this.push(type, e));
    return this;
  }

  push(type, e) {
    let rec;
    switch (type) {
      case 'state': rec = { state: e.state, attempt: e.attempt }; break;
      case 'welcomed': rec = { self: e.self, how: e.how }; break;
      case 'peer-joined': rec = { peer: e.id, name: e.name }; break;
      case 'peer-left': rec = { peer: e.peer.id, reason: e.reason }; break;
      case 'peer-state': rec = { peer: e.peer.id, state: e.state }; break;
      case 'track': rec = { peer: e.peer.id, kind: e.kind, trackId: e.track?.id }; break;
      case 'data': rec = { from: e.from.id, data: e.data, reliable: e.reliable }; break;
      case 'peer-media': rec = { peer: e.peer.id, name: e.peer.name, audio: e.audio, video: e.video, screen: e.screen }; break;
      case 'quality': rec = { peer: e.peer.id, level: e.level, rttMs: e.rttMs, loss: e.loss }; break;
      case 'verification-code': rec = { peer: e.peer.id, code: e.code, trust: e.trust }; break;
      case 'error': rec = { code: e.code, message: e.message, peer: e.peer }; break;
      default: rec = { ...e };
    }
    this.events.push({ t: Date.now() - this.t0, type, ...rec });
  }

  of(type, pred = () => true) {
    return this.events.filter((e) => e.type === type && pred(e));
  }

  /** The last peer-state reported for peer (undefined if none yet). */
  peerState(peer) {
    const all = this.of('peer-state', (e) => e.peer === peer);
    return all.length ? all[all.length - 1].state : undefined;
  }

  /** What peer sent us with meeting.send(), in order of arrival. */
  dataFrom(peer) {
    return this.of('data', (e) => e.from === peer).map((e) => e.data);
  }

  /** The last verification code for peer. */
  code(peer) {
    const all = this.of('verification-code', (e) => e.peer === peer);
    return all.length ? all[all.length - 1].code : undefined;
  }

  /** Recent core log lines (for assertion messages). */
  tail(n = 40, pred = () => true) {
    return this.logs
      .filter(pred)
      .slice(-n)
      .map((l) => `  [${this.name} +${l.t}] ${l.level} ${l.machine}${l.subject ? `/${l.subject}` : ''} ${l.from || l.to ? `${l.from}→${l.to} ` : ''}${l.detail}`)
      .join('\n');
  }

  summary() {
    const short = (e) => {
      switch (e.type) {
        case 'state': return `state=${e.state}`;
        case 'welcomed': return `welcomed(${e.how})`;
        case 'peer-state': return `${e.peer}=${e.state}`;
        case 'peer-joined': return `joined:${e.peer}`;
        case 'peer-left': return `left:${e.peer}(${e.reason})`;
        case 'data': return `data<${e.from}`;
        case 'error': return `error:${e.code}`;
        case 'verification-code': return `code:${e.peer}`;
        default: return e.type;
      }
    };
    return `${this.name} (${this.meeting?.self?.id}): ${this.events.filter((e) => e.type !== 'quality').map((e) => `+${e.t}ms ${short(e)}`).join(', ')}`;
  }
}

/**
 * meeting.send(data, {to: id}) to each peer id of `to` on its own, each as
 * soon as its connection takes it: 'peer-state' can say 'connected' a moment
 * before the app channels are open, and send() then refuses that peer
 * ('peer-not-connected', having sent nothing, so trying again cannot
 * duplicate). Rejects with any other error, or that one after `ms`.
 */
export async function sendToEach(meeting, data, to, ms = 5000) {
  const deadline = Date.now() + ms;
  await Promise.all(to.map(async (id) => {
    for (;;) {
      try {
        return await meeting.send(data, { to: id });
      } catch (e) {
        if (e?.code !== 'peer-not-connected' || Date.now() > deadline) throw e;
        await sleep(20);
      }
    }
  }));
}

/**
 * Joins `meeting` as `name` over the fake WebRTC network `net` (fake-webrtc.mjs)
 * and the `ws` WebSocket, recorded by a Recorder (whose `id` is then set);
 * the Meeting's dispose() goes on `cleanups`. `options` are more joinMeeting
 * options (server, coreOptions, fetch, …).
 */
export async function joinFake(joinMeeting, WebSocket, { meeting, name, net, cleanups, ...options }) {
  const rec = new Recorder(name);
  const m = await withTimeout(
    joinMeeting({ meeting, name, RTCPeerConnection: net.peerConnectionClass(name), WebSocket, logger: rec.logger, ...options }),
    8000,
    `${name} to join`,
  );
  rec.attach(m);
  rec.id = m.self.id;
  cleanups.push(() => m.dispose());
  return rec;
}
