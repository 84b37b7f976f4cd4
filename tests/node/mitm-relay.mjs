// A hostile signaling server, for tests only: an HTTP + WebSocket proxy in
// front of the real meshmeet server that performs an active man-in-the-middle
// attack on one pair of participants, A and B.
//
// Why: the verification code (wasm/core/verification_code.hpp) promises that
// two people who read the same code have a DTLS connection with no middleman
// in it. Only a real middleman can check that promise from outside, and a
// signaling server is the one party placed to become one.
//
// Everything is forwarded unchanged (HTTP requests, WebSocket messages both
// ways) except the `signal` messages between A and B. For that pair the relay
// holds two real WebRTC connections (@roamhq/wrtc): legA faces A and pretends
// to be B, legB faces B and pretends to be A. Each leg speaks the cores'
// PeerSignal format (wasm/core/peer_signal.hpp) with its own gen/seq
// numbering, offers or answers as the impersonated peer would (the impolite
// end, whose id sorts greater, offers first), sends complete SDPs (candidates
// inside, no trickle) and terminates DTLS. It opens the data channels a
// participant opens (the core's and the two of app data) and every message
// one leg receives on one is sent on by the other leg on the same one, so
// the vc-* exchange and meeting.send() pass through; media is not forwarded.
//
// Each SDP a leg sends has its a=fingerprint lines laid out by a trick
// (TRICKS below) meant to make A and B compute the same code anyway. The
// browser checks DTLS against one line, chosen by position: a media-level
// line overrides the session-level one and within a section the last line
// wins (libwebrtc refuses two lines at the session level). What the relay did
// is recorded (relay.records) so a test can tell the attack really happened:
// its legs connected, or its fingerprint was refused.
//
//   const relay = await MitmRelay.start({ upstream: srv.url, pair: ['ada', 'bob'], trick: 'honest-first' });
//   await joinMeeting({ server: relay.url, name: 'ada', … });
//   …
//   await relay.close();
//
// With `active: false` the relay starts transparent and only learns the
// pair's connection numbers; goActive() then replaces their direct
// connection by sending each end an offer with a higher `gen` (a fresh
// connection, which the core follows) and sits in the middle of the new one.

import http from 'node:http';
import { X509Certificate } from 'node:crypto';
import wrtc from '@roamhq/wrtc';
import WebSocket, { WebSocketServer } from 'ws';
import { openAppChannels } from '../../dist/app-data.js';

/**
 * Where each trick puts fingerprints in an SDP a leg sends to participant P
 * in place of P's peer Q: `own` is the leg's certificate (sha-256), `honest`
 * Q's real one (from Q's intercepted SDP), `ownSha512` the leg's certificate
 * as sha-512. `session` lines go at the end of the session part, `media`
 * lines in every m-section. In each layout the line the browser checks is
 * the relay's, so DTLS comes up with the leg (unless the SDP is refused).
 */
export const TRICKS = {
  // The plain middleman: every line is the relay's.
  replace: { layout: ({ own }) => ({ session: [], media: [own] }) },
  // Honest first (where a first-line reader looks), the relay's where the browser looks.
  'honest-first': { needsHonest: true, layout: ({ own, honest }) => ({ session: [honest], media: [own] }) },
  // The relay's first, the honest one as an extra session-level line after it. libwebrtc's
  // parser refuses two lines at one level, so only a refusal can come of it there.
  'honest-last-session': { needsHonest: true, layout: ({ own, honest }) => ({ session: [own, honest], media: [own] }) },
  // The relay's line twice with the honest one in between (the last one counts).
  duplicate: { needsHonest: true, layout: ({ own, honest }) => ({ session: [], media: [own, honest, own] }) },
  // The honest sha-256 line, and the relay's certificate under another algorithm where the browser looks.
  'extra-algorithm': {
    needsHonest: true,
    needsSha512: true,
    layout: ({ honest, ownSha512 }) => ({ session: [honest], media: [ownSha512] }),
  },
};

const GATHERING_TIMEOUT_MS = 5000;

export class MitmRelay {
  /**
   * upstream: the real server's base URL. pair: the names A and B join with.
   * trick: a key of TRICKS. active: false to start transparent (goActive()).
   * RTCPeerConnection: for the legs (default @roamhq/wrtc's).
   */
  static async start(options) {
    const relay = new MitmRelay(options);
    await new Promise((resolve) => relay.http.listen(0, '127.0.0.1', resolve));
    relay.url = `http://127.0.0.1:${relay.http.address().port}`;
    return relay;
  }

  constructor({ upstream, pair, trick = 'replace', active = true, RTCPeerConnection = wrtc.RTCPeerConnection }) {
    if (!TRICKS[trick]) throw new Error(`unknown trick ${trick}`);
    this.upstream = new URL(upstream);
    this.t0 = Date.now();
    /** What the relay did, in order: {t, what, …} (see record() calls). */
    this.records = [];
    this.sockets = new Set();
    this.idsByName = new Map();
    this.namesById = new Map();
    this.interception = new PairInterception(this, pair, TRICKS[trick], trick, active, RTCPeerConnection);
    this.http = http.createServer((req, res) => this.forwardHttp(req, res));
    this.wss = new WebSocketServer({ server: this.http, path: '/ws' });
    this.wss.on('connection', (client, req) => this.sockets.add(new ProxiedSocket(this, client, req)));
  }

  record(what, fields = {}) {
    this.records.push({ t: Date.now() - this.t0, what, ...fields });
  }

  /** Takes the middle of the pair's connection now (a relay started with active: false). */
  goActive() {
    this.interception.goActive();
  }

  /** The two legs once made: {facing, as, gen, everConnected, states} (a rebuilt leg keeps its entry). */
  legs() {
    return this.interception.legSummaries();
  }

  /** The descriptions a leg sent to participant `name`, with their fingerprint lines. */
  descriptionsSentTo(name) {
    return this.records.filter((r) => r.what === 'description-sent' && r.to === name);
  }

  /** Human-readable record, for assertion messages. */
  report() {
    return this.records
      .map(({ t, what, ...rest }) => `  [relay +${t}] ${what} ${JSON.stringify(rest)}`)
      .join('\n');
  }

  async close() {
    this.interception.close();
    for (const s of this.sockets) s.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise((resolve) => this.http.close(resolve));
  }

  // ---- HTTP: forwarded as it is

  forwardHttp(req, res) {
    const headers = { ...req.headers, host: this.upstream.host };
    const up = http.request(new URL(req.url, this.upstream), { method: req.method, headers }, (upRes) => {
      res.writeHead(upRes.statusCode, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', (e) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(`relay: upstream unreachable (${e.message})`);
    });
    req.pipe(up);
  }

  upstreamSocketUrl() {
    const url = new URL('/ws', this.upstream);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  }

  // ---- WebSocket: the roster is read, the pair's signals are taken

  fromClient(socket, text) {
    const msg = parseJson(text);
    if (msg?.type === 'join' && typeof msg.name === 'string') socket.name = msg.name;
    if (msg?.type === 'signal' && this.interception.takes(socket.name, this.namesById.get(msg.to), msg.data)) return;
    socket.toServer(text);
  }

  fromServer(socket, text) {
    const msg = parseJson(text);
    const introduced = [];
    if (msg?.type === 'welcome') {
      this.learn(msg.self, socket.name);
      for (const p of msg.peers ?? []) introduced.push(this.learn(p.id, p.name));
    } else if (msg?.type === 'peer-joined') {
      introduced.push(this.learn(msg.peer?.id, msg.peer?.name));
    }
    socket.toClient(text);
    // Only now may the relay speak for a peer to this socket: the protocol
    // promises peer-joined (or welcome) before any signal from that peer.
    for (const name of introduced) this.interception.introduced(socket.name, name);
  }

  learn(id, name) {
    this.idsByName.set(name, id);
    this.namesById.set(id, name);
    return name;
  }

  /** Sends a signal to participant `name` as if it came from participant `from`. */
  signalAs(from, name, data) {
    const socket = [...this.sockets].find((s) => s.name === name && s.open());
    socket?.toClient(JSON.stringify({ type: 'signal', from: this.idsByName.get(from), data }));
  }
}

/** One client's WebSocket and the relay's own to the server on its behalf. */
class ProxiedSocket {
  constructor(relay, client, req) {
    this.client = client;
    this.name = undefined;  // from its `join`
    this.pending = [];      // what the client sent before the upstream socket opened
    const origin = req.headers.origin;
    this.server = new WebSocket(relay.upstreamSocketUrl(), origin ? { origin } : {});
    this.server.on('open', () => {
      for (const data of this.pending.splice(0)) this.server.send(data);
    });
    // Binary messages (the protocol has none) pass untouched, so the server answers them as it would.
    this.server.on('message', (data, binary) => (binary ? this.toClient(data) : relay.fromServer(this, data.toString())));
    client.on('message', (data, binary) => (binary ? this.toServer(data) : relay.fromClient(this, data.toString())));
    this.server.on('close', (code) => passClose(this.client, code));
    client.on('close', (code) => {
      passClose(this.server, code);
      relay.sockets.delete(this);
    });
    this.server.on('error', () => {});  // a close follows
    client.on('error', () => {});
  }

  open() {
    return this.client.readyState === WebSocket.OPEN;
  }

  toServer(data) {
    if (this.server.readyState === WebSocket.CONNECTING) this.pending.push(data);
    else if (this.server.readyState === WebSocket.OPEN) this.server.send(data);
  }

  toClient(data) {
    if (this.open()) this.client.send(data);
  }

  terminate() {
    this.client.terminate();
    this.server.terminate();
  }
}

// A close seen on one side, repeated on the other: an unclean drop stays unclean.
function passClose(ws, code) {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  const sendable = (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
  if (code === 1006 || ws.readyState === WebSocket.CONNECTING) ws.terminate();
  else ws.close(sendable ? code : undefined);
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The A–B pair: what the relay learned of each end (connection numbers,
 * honest fingerprint) and, once active, the two legs.
 */
class PairInterception {
  constructor(relay, [nameA, nameB], trick, trickName, active, RTCPeerConnection) {
    this.relay = relay;
    this.trick = trick;
    this.trickName = trickName;
    this.active = active;
    this.RTCPeerConnection = RTCPeerConnection;
    this.sides = new Map([nameA, nameB].map((name) => [name, { name, knowsPeer: false, highestGen: 0, honest: undefined, honestWaiters: [] }]));
    this.legs = new Map();  // participant name → the leg facing it
  }

  other(name) {
    return [...this.sides.keys()].find((n) => n !== name);
  }

  isPair(from, to) {
    return from !== to && this.sides.has(from) && this.sides.has(to);
  }

  /** A signal from participant `from` to `to`: true when the relay keeps it. */
  takes(from, to, data) {
    if (!this.isPair(from, to) || typeof data !== 'object' || data === null) return false;
    const side = this.sides.get(from);
    if (Number.isInteger(data.gen)) side.highestGen = Math.max(side.highestGen, data.gen);
    if (typeof data.description?.sdp === 'string') this.learnHonest(side, data.description.sdp);
    if (!this.active) return false;
    this.relay.record('signal-taken', { from, kind: signalKind(data), gen: data.gen, peerGen: data.peerGen, seq: data.seq });
    this.legs.get(from).onSignal(data);
    return true;
  }

  learnHonest(side, sdp) {
    const fingerprint = fingerprintLines(sdp)[0]?.value;
    if (!fingerprint) return;
    side.honest = fingerprint;
    for (const resolve of side.honestWaiters.splice(0)) resolve(fingerprint);
  }

  honestFingerprint(name) {
    const side = this.sides.get(name);
    return side.honest ? Promise.resolve(side.honest) : new Promise((resolve) => side.honestWaiters.push(resolve));
  }

  /** Participant `name` was just told about participant `peer`. */
  introduced(name, peer) {
    if (!this.isPair(name, peer) || this.sides.get(name).knowsPeer) return;
    this.sides.get(name).knowsPeer = true;
    if (!this.active) return;
    this.makeLegs({ fresh: false });
    // The impolite end (the greater id) opens the pair's first connection.
    const ids = this.relay.idsByName;
    if (ids.get(peer) > ids.get(name)) this.legs.get(name).offer();
  }

  goActive() {
    if (this.active) return;
    this.active = true;
    this.relay.record('go-active');
    this.makeLegs({ fresh: true });
    for (const leg of this.legs.values()) leg.offer();
  }

  // Both legs at once, so a text from one always has the other to go to. A
  // fresh connection is numbered above what the impersonated end last used.
  makeLegs({ fresh }) {
    if (this.legs.size > 0) return;
    for (const facing of this.sides.keys()) {
      const as = this.other(facing);
      const gen = fresh ? this.sides.get(as).highestGen + 1 : 1;
      this.legs.set(facing, new ImpersonatingLeg(this, { facing, as, gen }));
    }
  }

  /** A message leg `from` received on its channel `label` goes out on the other leg's. */
  relayMessage(from, label, data) {
    const to = this.other(from);
    const kind = typeof data === 'string' ? parseJson(data)?.t : undefined;
    this.relay.record('message-relayed', { from, to, channel: label, kind });
    this.legs.get(to).sendMessage(label, data);
  }

  legSummaries() {
    return [...this.legs.values()].map((leg) => leg.summary());
  }

  close() {
    for (const leg of this.legs.values()) leg.close();
    for (const side of this.sides.values()) side.honestWaiters.length = 0;
  }
}

function signalKind(data) {
  if (data.description) return data.description.type;
  if (data.candidate) return 'candidate';
  if (data.iceRestart) return 'ice-restart';
  return 'unknown';
}

/**
 * One RTCPeerConnection of the relay's, facing participant `facing` and
 * speaking to it as participant `as`. Signals from the participant are
 * handled one at a time, in order (each step awaits the browser).
 */
class ImpersonatingLeg {
  constructor(pair, { facing, as, gen }) {
    this.pair = pair;
    this.relay = pair.relay;
    this.facing = facing;
    this.as = as;
    this.gen = gen - 1;  // createPc() numbers it
    this.nextSeq = 1;
    this.states = [];
    this.everConnected = false;
    this.closed = false;
    this.work = Promise.resolve();
    this.createPc();
  }

  // ---- the connection

  createPc() {
    this.gen += 1;
    this.remoteGen = 0;
    this.lastOfferSeq = 0;
    this.used = false;  // a description was made or applied on it
    this.outbox = [];   // [label, data] waiting for that channel to open
    const pc = new this.pair.RTCPeerConnection({ iceServers: [] });
    // What web/browser-objects.js opens with every connection: the core's channel and app data's two.
    const channels = [pc.createDataChannel('meshmeet', { negotiated: true, id: 0 }), ...Object.values(openAppChannels(pc))];
    pc.onconnectionstatechange = () => this.onConnectionState(pc);
    for (const channel of channels) {
      channel.onopen = () => {
        const waiting = this.outbox.filter(([label]) => label === channel.label);
        this.outbox = this.outbox.filter(([label]) => label !== channel.label);
        for (const [, data] of waiting) channel.send(data);
      };
      channel.onmessage = (e) => this.pair.relayMessage(this.facing, channel.label, e.data);
    }
    this.pc = pc;
    this.channels = new Map(channels.map((c) => [c.label, c]));
    this.log('leg-created', { gen: this.gen });
  }

  closePc() {
    this.pc.onconnectionstatechange = null;
    for (const channel of this.channels.values()) channel.onopen = channel.onmessage = null;
    this.pc.close();
  }

  onConnectionState(pc) {
    if (pc !== this.pc) return;
    this.states.push(pc.connectionState);
    if (pc.connectionState === 'connected') this.everConnected = true;
    this.log('leg-connection-state', { gen: this.gen, state: pc.connectionState });
  }

  sendMessage(label, data) {
    const channel = this.channels.get(label);
    if (channel.readyState === 'open') channel.send(data);
    else this.outbox.push([label, data]);
  }

  close() {
    this.closed = true;
    this.closePc();
  }

  summary() {
    return { facing: this.facing, as: this.as, gen: this.gen, everConnected: this.everConnected, states: [...this.states] };
  }

  // ---- signaling (peer_signal.hpp)

  enqueue(step) {
    this.work = this.work.then(step).catch((e) => {
      if (!this.closed) this.log('leg-error', { message: e.message });
    });
  }

  offer() {
    this.enqueue(async () => {
      this.used = true;
      await this.pc.setLocalDescription(await this.pc.createOffer());
      this.lastOfferSeq = await this.sendDescription({});
    });
  }

  onSignal(data) {
    this.enqueue(() => this.handle(data));
  }

  async handle(data) {
    if (data.v !== 1 || !Number.isInteger(data.gen)) return this.log('signal-dropped', { why: 'not a v1 peer signal' });
    const replyToUs = data.peerGen === this.gen;
    if (data.peerGen && !replyToUs) return this.log('signal-dropped', { why: 'for another connection of ours', gen: data.gen });
    if (data.gen !== this.remoteGen) {
      if (data.gen < this.remoteGen) return this.log('signal-dropped', { why: 'from a retired connection', gen: data.gen });
      // The participant started a fresh connection: a connection pairs with one remote connection for life.
      if (!replyToUs && this.used) {
        this.closePc();
        this.createPc();
      }
      this.remoteGen = data.gen;
    }
    if (data.description?.type === 'offer') return this.answer(data.seq, data.description.sdp);
    if (data.description?.type === 'answer') return this.applyAnswer(data);
    if (data.candidate) return this.pc.addIceCandidate(data.candidate);
    this.log('signal-ignored', { kind: signalKind(data) });
  }

  async answer(offerSeq, sdp) {
    this.used = true;
    await this.pc.setRemoteDescription({ type: 'offer', sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    await this.sendDescription({ answers: offerSeq });
  }

  async applyAnswer(data) {
    if (data.answers && data.answers !== this.lastOfferSeq) return this.log('signal-dropped', { why: 'answers another offer' });
    await this.pc.setRemoteDescription({ type: 'answer', sdp: data.description.sdp });
  }

  // The local description once gathered (candidates inside), its
  // fingerprints laid out by the trick. Returns the seq it went with.
  async sendDescription(fields) {
    if (!(await gatheringComplete(this.pc, GATHERING_TIMEOUT_MS))) this.log('gathering-incomplete', { gen: this.gen });
    const { type, sdp } = this.pc.localDescription;
    const own = fingerprintLines(sdp)[0].value;
    const facts = { own };
    if (this.pair.trick.needsHonest) {
      // Known once the impersonated end sent its own description (to the other leg).
      if (!this.pair.sides.get(this.as).honest) this.log('waiting-for-honest-fingerprint', { of: this.as });
      facts.honest = await this.pair.honestFingerprint(this.as);
    }
    if (this.pair.trick.needsSha512) facts.ownSha512 = await this.ownSha512(own);
    if (this.closed) return 0;
    const tricked = placeFingerprints(sdp, this.pair.trick.layout(facts));
    const seq = this.send({ ...fields, description: { type, sdp: tricked } });
    this.relay.record('description-sent', {
      to: this.facing,
      as: this.as,
      type,
      gen: this.gen,
      seq,
      trick: this.pair.trickName,
      own,
      honest: facts.honest,
      fingerprintLines: fingerprintLines(tricked).map((l) => l.text),
    });
    return seq;
  }

  send(fields) {
    const seq = this.nextSeq++;
    this.relay.signalAs(this.as, this.facing, { v: 1, gen: this.gen, peerGen: this.remoteGen, seq, ...fields });
    return seq;
  }

  // The leg's certificate hashed with sha-512: found among getStats()'s
  // certificates as the one whose sha-256 is the SDP's.
  async ownSha512(own) {
    const stats = await this.pc.getStats();
    for (const s of stats.values()) {
      if (s.type !== 'certificate' || !s.base64Certificate) continue;
      const cert = new X509Certificate(Buffer.from(s.base64Certificate, 'base64'));
      if (`sha-256 ${cert.fingerprint256}` === own) return `sha-512 ${cert.fingerprint512}`;
    }
    throw new Error(`the leg's certificate (${own}) is not among getStats()'s`);
  }

  log(what, fields = {}) {
    this.relay.record(what, { facing: this.facing, ...fields });
  }
}

/** True once the connection gathered every candidate, false after `ms` without. */
function gatheringComplete(pc, ms) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState !== 'complete') return;
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// ---- SDP fingerprint lines

/** Every a=fingerprint line: {text, level ('session' or 'm<index>'), value ("sha-256 AB:…")}. */
export function fingerprintLines(sdp) {
  const out = [];
  let level = 'session';
  let m = -1;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) level = `m${++m}`;
    if (line.startsWith('a=fingerprint:')) out.push({ text: `${level}: ${line}`, level, value: line.slice('a=fingerprint:'.length).trim() });
  }
  return out;
}

/**
 * The SDP with its a=fingerprint lines replaced: `session` ones at the end
 * of the session part, `media` ones in every m-section where its first
 * fingerprint line was (or at the section's end).
 */
function placeFingerprints(sdp, { session, media }) {
  const isFingerprint = (line) => line.startsWith('a=fingerprint:');
  const sections = [[]];
  for (const line of sdp.split(/\r?\n/).filter((l) => l !== '')) {
    if (line.startsWith('m=')) sections.push([]);
    sections.at(-1).push(line);
  }
  const out = sections.map((section, i) => {
    const kept = section.filter((line) => !isFingerprint(line));
    const lines = (i === 0 ? session : media).map((value) => `a=fingerprint:${value}`);
    const at = i === 0 ? -1 : section.findIndex(isFingerprint);
    kept.splice(at < 0 ? kept.length : at, 0, ...lines);
    return kept;
  });
  return `${out.flat().join('\r\n')}\r\n`;
}
