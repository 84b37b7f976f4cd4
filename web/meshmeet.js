// meshmeet: mesh video meetings in the browser (and in Node).
//
// This file is the JavaScript side of the client. The decisions —
// signaling, reconnection, perfect negotiation, ICE restarts, the uplink
// budget — live in the C++ core compiled to WebAssembly. This shim owns the
// browser objects (WebSocket, RTCPeerConnection, timers), feeds what happens
// to them into the core, and carries out what the core asks for. No WebRTC
// logic here beyond translating calls and events. App data (meeting.send)
// passes beside the core: its framing is in app-data.js.

import createCoreModule from './meshmeet-core.mjs';
import {
  AppDataReader, MAX_LOSSY_BYTES, MAX_MESSAGE_BYTES, SEND_BUFFER_BYTES, appDataChunks, encodeAppData, openAppChannels,
} from './app-data.js';

export { MAX_LOSSY_BYTES, MAX_MESSAGE_BYTES };

// The core's .wasm is fetched from next to this file, i.e. from wherever the
// page got the package. A load that fails is 'core-unavailable', and the next
// call loads again.
let corePromise = null;
function loadCore() {
  corePromise ??= createCoreModule().catch((e) => {
    corePromise = null;
    throw new MeshmeetError('core-unavailable', `cannot load the client core (meshmeet-core.wasm): ${e?.message ?? e}`);
  });
  return corePromise;
}

/**
 * Loads the WebAssembly core now, so that a later joinMeeting starts at once
 * (a page can call it while the person types their name). Optional:
 * joinMeeting loads it itself. Rejects with 'core-unavailable'.
 */
export async function preload() {
  await loadCore();
}

/** An error with a stable `code` (see index.d.ts for the list). */
export class MeshmeetError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = 'MeshmeetError';
    this.code = code;
    if (details.peer) this.peer = details.peer;
    if (details.status) this.status = details.status;
    if (details.serverCode) this.serverCode = details.serverCode;
  }
}

function httpBase(serverUrl) {
  let url;
  try {
    url = new URL(serverUrl, globalThis.location?.href);
  } catch {
    throw new MeshmeetError('invalid-argument', `not a URL: ${serverUrl}`);
  }
  if (url.protocol === 'ws:') url.protocol = 'http:';
  if (url.protocol === 'wss:') url.protocol = 'https:';
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new MeshmeetError('invalid-argument', `the server URL must be http(s) or ws(s): ${serverUrl}`);
  return url.origin;
}

function socketUrl(serverUrl) {
  const base = new URL(httpBase(serverUrl));
  base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  base.pathname = '/ws';
  return base.href;
}

// Every ErrorCode of index.d.ts. A code from the server outside this list
// (a newer server, a proxy's) becomes 'server-error', the server's own kept
// in `serverCode`.
const ERROR_CODES = new Set([
  'meeting-not-found', 'meeting-full', 'too-many-connections', 'forbidden-origin', 'rate-limited', 'unauthorized',
  'too-large', 'bad-request', 'bad-json', 'bad-message', 'not-joined', 'already-joined', 'unknown-peer', 'bad-resume',
  'server-unreachable', 'server-error', 'peer-unreachable', 'verification-failed', 'invalid-argument', 'bad-input',
  'core-unavailable', 'relay-unavailable', 'data-too-large', 'peer-not-connected', 'send-buffer-full', 'track-not-replaced',
]);

// Options the core reads that joinMeeting sets itself: not for coreOptions.
const JOIN_OPTIONS_NOT_CORE = {
  seed: 'use joinMeeting\'s `seed` option',
  uplinkKbps: 'use joinMeeting\'s `uplinkKbps` option',
  iceServers: 'use joinMeeting\'s `iceServers` option',
  debugLog: 'pass a `logger` to joinMeeting',
  entropy: 'the verification code\'s entropy is always fresh and cannot be set',
};

function typedError(code, message, details = {}) {
  // 503 'unavailable': the server cannot serve now (it is shutting down).
  if (code === 'unavailable') return new MeshmeetError('server-unreachable', message, { ...details, serverCode: code });
  if (typeof code === 'string' && ERROR_CODES.has(code)) return new MeshmeetError(code, message, details);
  return new MeshmeetError('server-error', message, typeof code === 'string' && code ? { ...details, serverCode: code } : details);
}

async function requestJson(url, init, fetchImpl) {
  let res;
  try {
    res = await fetchImpl(url, init);
  } catch (e) {
    throw new MeshmeetError('server-unreachable', `cannot reach ${url}: ${e.message}`);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  if (!res.ok) throw typedError(body?.error?.code ?? 'server-error', body?.error?.message ?? `HTTP ${res.status}`, { status: res.status });
  return body;
}

// GET `path` without throwing: the response, null when none came (down, no
// answer within timeoutMs, or aborted). A page of an origin the server does
// not allow may not read the answer (no CORS headers for it): then a no-cors
// request tells whether the server answers at all (an opaque response).
async function fetchQuietly(url, { fetchImpl, headers = {}, timeoutMs, signal }) {
  if (typeof fetchImpl !== 'function') return null;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const stop = () => controller.abort();
  signal?.addEventListener('abort', stop);
  try {
    try {
      return await fetchImpl(url, { headers, signal: controller.signal });
    } catch {
      // Only a page's fetch hides answers (CORS); elsewhere nothing came.
      if (controller.signal.aborted || !globalThis.location) return null;
      try {
        return await fetchImpl(url, { mode: 'no-cors', signal: controller.signal });
      } catch {
        return null;
      }
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  }
}

// GET /api/meetings/<id> for joinMeeting, never throwing. {answered: false}:
// no HTTP answer (down, or no answer within timeoutMs). {answered: true, ok}:
// the meeting is there; with `code`, the server's readable refusal.
// `originAllowed` says whether the server takes our Origin, judged by its
// CORS answer (the API and the WebSocket share one allow-list): a page of
// another origin reads the answer only if allowed (else the no-cors retry is
// opaque); Node's `origin`, sent as the Origin header as the WebSocket sends
// it, is allowed if echoed in Access-Control-Allow-Origin. null when the
// request carried no Origin to judge (a same-origin page; Node without it).
async function lookUpMeeting(base, meetingId, { fetchImpl, origin, timeoutMs, signal }) {
  const url = `${base}/api/meetings/${encodeURIComponent(meetingId)}`;
  const res = await fetchQuietly(url, { fetchImpl, headers: origin ? { Origin: origin } : {}, timeoutMs, signal });
  if (!res) return { answered: false, originAllowed: null };
  if (res.type === 'opaque') return { answered: true, opaque: true, originAllowed: false };
  const page = globalThis.location?.origin;
  const originAllowed = page && page !== base ? true
    : origin ? res.headers?.get?.('access-control-allow-origin') === origin
    : null;
  if (res.ok) return { answered: true, ok: true, originAllowed };
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  const code = body?.error?.code;
  return {
    answered: true, ok: false, originAllowed, status: res.status, code: typeof code === 'string' ? code : '',
    message: body?.error?.message ?? `HTTP ${res.status}`,
  };
}

function forbiddenOrigin(base, origin) {
  return new MeshmeetError('forbidden-origin', `the server at ${base} does not accept ${origin ? `the origin ${origin}` : 'this origin'} (see its --allow-origin)`);
}

// GET /healthz: false only when the server answers that it is not serving
// (503 while it shuts down, when it refuses upgrades too) or not at all.
async function serverHealthy(base, { fetchImpl, timeoutMs, signal }) {
  const res = await fetchQuietly(`${base}/healthz`, { fetchImpl, timeoutMs, signal });
  return !!res && (res.type === 'opaque' || res.ok);
}

// A request to the meetings API. In a page of an origin the server does not
// allow, the browser hides the answer and reports a network error: when the
// server answers all the same (/healthz, no-cors), the origin is the problem.
async function requestApi(base, path, init, fetchImpl) {
  try {
    return await requestJson(`${base}${path}`, init, fetchImpl);
  } catch (e) {
    const page = globalThis.location?.origin;
    if (e.code !== 'server-unreachable' || !page || page === base) throw e;
    if (!(await serverHealthy(base, { fetchImpl, timeoutMs: 5000 }))) throw e;
    throw forbiddenOrigin(base, page);
  }
}

/**
 * Creates a meeting on the server; resolves to its id, name, creation time,
 * link and whether it is relay-only. `relayOnly: true` asks for a meeting
 * whose connections all go through the server's TURN relay (no participant
 * learns another's IP address); a server without TURN refuses it with
 * 'relay-unavailable'.
 */
export async function createMeeting(serverUrl, options = {}) {
  const base = httpBase(serverUrl);
  const headers = { 'Content-Type': 'application/json' };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.relayOnly !== undefined && typeof options.relayOnly !== 'boolean')
    throw new MeshmeetError('invalid-argument', '`relayOnly` must be a boolean');
  const request = {};
  if (options.name !== undefined) request.name = options.name;
  if (options.relayOnly) request.relayOnly = true;
  const body = JSON.stringify(request);
  const meeting = await requestApi(base, '/api/meetings', { method: 'POST', headers, body }, options.fetch ?? globalThis.fetch);
  // A v1 server knows no relayOnly (and ignored the request for it).
  return { ...meeting, relayOnly: meeting.relayOnly === true, link: new URL(meeting.url, base).href };
}

/** Looks a meeting up: its name, how many are in it now, and whether it is relay-only. */
export async function getMeeting(serverUrl, meetingId, options = {}) {
  const base = httpBase(serverUrl);
  const meeting = await requestApi(base, `/api/meetings/${encodeURIComponent(meetingId)}`, {}, options.fetch ?? globalThis.fetch);
  return { ...meeting, relayOnly: meeting.relayOnly === true };
}

// Errors that end a join attempt before it succeeds.
const JOIN_FATAL = new Set(['meeting-not-found', 'meeting-full', 'too-many-connections', 'forbidden-origin']);

/**
 * Joins a meeting; resolves once the server has welcomed us. The meeting is
 * looked up over HTTP first, so an unknown meeting is refused at once; a
 * WebSocket refused by a server that answers HTTP is 'forbidden-origin'.
 */
export async function joinMeeting(options) {
  if (!options || typeof options !== 'object') throw new MeshmeetError('invalid-argument', 'joinMeeting needs an options object');
  const { server, meeting } = options;
  if (typeof server !== 'string' || typeof meeting !== 'string')
    throw new MeshmeetError('invalid-argument', 'joinMeeting needs `server` and `meeting` strings');
  if (options.origin !== undefined && typeof options.origin !== 'string')
    throw new MeshmeetError('invalid-argument', '`origin` must be a string');
  const { signal } = options;
  if (signal !== undefined && (typeof signal?.aborted !== 'boolean' || typeof signal.addEventListener !== 'function'))
    throw new MeshmeetError('invalid-argument', '`signal` must be an AbortSignal');
  signal?.throwIfAborted?.();
  // joinTimeoutMs counts from here: loading the core and the lookup included.
  const timeoutMs = options.joinTimeoutMs ?? 15000;
  const deadline = now() + timeoutMs;
  const url = socketUrl(server);
  const base = httpBase(server);
  const WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
  const PeerConnectionImpl = options.RTCPeerConnection ?? globalThis.RTCPeerConnection;
  if (!WebSocketImpl) throw new MeshmeetError('invalid-argument', 'no WebSocket implementation: pass options.WebSocket');
  if (!PeerConnectionImpl)
    throw new MeshmeetError('invalid-argument', 'no RTCPeerConnection implementation: pass options.RTCPeerConnection');
  const core = await loadCore();
  signal?.throwIfAborted?.();
  const config = {
    seed: options.seed ?? randomSeed(),
    uplinkKbps: options.uplinkKbps ?? 2500,
    debugLog: typeof options.logger === 'function',
  };
  if (options.iceServers) config.iceServers = options.iceServers;
  const tuning = options.coreOptions ?? {};
  if (typeof tuning !== 'object') throw new MeshmeetError('invalid-argument', '`coreOptions` must be an object');
  for (const [key, instead] of Object.entries(JOIN_OPTIONS_NOT_CORE)) {
    if (key in tuning) throw new MeshmeetError('invalid-argument', `coreOptions.${key}: ${instead}`);
  }
  Object.assign(config, tuning);  // the core refuses a key it does not know
  // The verification code's nonces: always fresh, whatever the options say
  // (a fixed seed is fine for tests; fixed nonces would let a middleman
  // precompute codes).
  config.entropy = randomHex(32);
  const problem = core.validateConfig(JSON.stringify(config));
  if (problem) throw new MeshmeetError('invalid-argument', problem);
  const http = { fetchImpl: options.fetch ?? globalThis.fetch, origin: options.origin, timeoutMs: Math.min(timeoutMs, 5000), signal };
  const found = await lookUpMeeting(base, meeting, http);
  signal?.throwIfAborted?.();
  if (found.code && JOIN_FATAL.has(found.code)) throw typedError(found.code, found.message, { status: found.status });
  if (found.originAllowed === false) throw forbiddenOrigin(base, options.origin ?? globalThis.location?.origin);
  // After a WebSocket refused before it opened: what the server says now (see Meeting._onSocketRefused).
  const probe = async (signal) => {
    const [again, healthy] = await Promise.all([lookUpMeeting(base, meeting, { ...http, signal }), serverHealthy(base, { ...http, signal })]);
    return { ...again, healthy, base };
  };
  const m = new Meeting(MADE_BY_JOIN, core, config, { ...options, WebSocket: WebSocketImpl, RTCPeerConnection: PeerConnectionImpl });
  return m._join(url, meeting, options.name ?? '', Math.max(0, deadline - now()), probe, signal);
}

function randomSeed() {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  return words[0] * 2 ** 21 + (words[1] >>> 11);  // 53 random bits, exact in a double
}

function randomHex(bytes) {
  const data = new Uint8Array(bytes);
  globalThis.crypto.getRandomValues(data);
  return Array.from(data, (b) => b.toString(16).padStart(2, '0')).join('');
}

const now = () => globalThis.performance.now();

// A screen-capture track (getDisplayMedia) names the surface it captures,
// while it lives: Meeting notes it when the track is given.
function isScreen(track) {
  return !!track?.getSettings?.().displaySurface;
}

function iceUfrag(sdp) {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp ?? '')?.[1] ?? '';
}

// The SHA-256 fingerprint ("sha-256 AB:…") of the certificate DTLS
// authenticated on `pc`, for the core to check against the fingerprints the
// peer's description named (the verification code rests on them); null
// where the browser does not tell (getRemoteCertificates is Chrome's).
async function remoteCertificate(pc) {
  // Only where the platform has DTLS transports of its own (browsers): in
  // Node, merely reading node-webrtc's pc.sctp.transport makes the process
  // crash as it exits.
  if (typeof globalThis.RTCDtlsTransport !== 'function') return null;
  try {
    const transport = pc.sctp?.transport ?? pc.getReceivers?.()[0]?.transport;
    const der = transport?.getRemoteCertificates?.()?.[0];
    if (!der || !globalThis.crypto?.subtle) return null;
    const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', der));
    return `sha-256 ${Array.from(digest, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
  } catch {
    return null;
  }
}

// An offer with new ICE credentials (restartIce() emulated).
async function setLocalIceRestartOffer(pc) {
  const offer = await pc.createOffer({ iceRestart: true });
  return pc.setLocalDescription(offer);
}

// pc.setLocalDescription() with no argument creates the offer or answer the
// signaling state calls for (what perfect negotiation relies on). Older
// implementations (node-webrtc) want the description: create it for them.
async function setLocalDescriptionImplicit(pc) {
  try {
    return await pc.setLocalDescription();
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
  }
  const description = pc.signalingState === 'have-remote-offer' ? await pc.createAnswer() : await pc.createOffer();
  return pc.setLocalDescription(description);
}

// Only joinMeeting makes Meetings: one made by hand would have no core.
const MADE_BY_JOIN = Symbol('meshmeet.Meeting');

/**
 * One participant in one meeting. Events: 'state', 'welcomed',
 * 'peer-joined', 'peer-left', 'peer-state', 'track',
 * 'peer-media', 'quality', 'verification-code', 'data', 'error'.
 * See index.d.ts.
 */
export class Meeting {
  constructor(token, core, config, options) {
    if (token !== MADE_BY_JOIN) throw new TypeError('Illegal constructor: a Meeting comes from joinMeeting()');
    // Everything that can be refused was checked by joinMeeting: from here
    // on the C++ object exists, and dispose() is what frees it.
    this._client = new core.Client(JSON.stringify(config));
    this._core = core;
    this._WebSocket = options.WebSocket;
    this._origin = options.origin;             // Node only: the Origin the WebSocket presents
    this._lifetime = new AbortController();    // aborts HTTP requests still out at dispose()
    this._probe = null;                        // (signal) → what the server says over HTTP, while joining
    this._probing = false;
    this._RTCPeerConnection = options.RTCPeerConnection;
    this._logger = options.logger;
    this._localStream = options.localStream ?? null;
    this._localTracks = new Map();  // track id → MediaStreamTrack
    this._screens = new Set();      // ids of the screen-capture tracks given (set-track-enabled leaves them alone)
    this._sockets = new Map();      // socket handle → WebSocket
    this._pcs = new Map();          // pc handle → { pc, channel, senders: {audio, video}, peer }
    this._timers = new Map();       // timer handle → timeout id
    this._remoteTracks = new Map(); // `${pc}/${track id}` → { track, streams }
    this._listeners = new Map();
    // Every event emitted until the app holds this Meeting (and one tick
    // more): replayed to a listener added in that window (see on()).
    this._backlog = [];
    this._trackOps = null;          // while a replace*Track call runs: what its outputs started
    // App data bytes handed to each channel in the current task. Browsers
    // count a send in bufferedAmount at once; node-webrtc only later, so two
    // sends in one task would not see each other's bytes (see send()).
    this._handed = new Map();
    this._handedTimer = 0;
    this._sending = { audio: null, video: null };  // the local track of each kind, as the core was told
    this._peers = new Map();        // peer id → { id, name }
    this._disposed = false;
    this._pumping = false;
    this.id = null;
    this.name = '';
    this.self = null;
    this.state = 'idle';
    this.microphoneOn = true;  // the switches (setMicrophone/setCamera), whether or not a track is sent
    this.cameraOn = true;
    this.relayOnly = false;    // from the welcome: every connection through TURN
    // The device's network changed (Wi-Fi to a phone hotspot): reported to
    // the core, which restarts every connection's ICE and reconnects
    // signaling at once instead of waiting for each one's timers.
    this._onOnline = () => this._input((c, t) => c.networkChanged(t));
    globalThis.addEventListener?.('online', this._onOnline);
  }

  // ---- public API --------------------------------------------------------

  /** Peers in the meeting now, by id. */
  get peers() {
    return new Map(this._peers);
  }

  /**
   * Subscribes to an event; returns a function that unsubscribes. A listener
   * added in the tick joinMeeting resolves in (right after `await
   * joinMeeting(...)`) first gets, in a microtask, the events of its type
   * emitted while joining: it misses nothing, whatever the join's timing.
   */
  on(type, listener) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    const listeners = this._listeners.get(type);
    listeners.add(listener);
    const missed = this._backlog?.filter((e) => e.type === type) ?? [];
    if (missed.length > 0) {
      queueMicrotask(() => {
        for (const e of missed) if (listeners.has(listener)) this._call(listener, e.detail);
      });
    }
    return () => this.off(type, listener);
  }

  off(type, listener) {
    this._listeners.get(type)?.delete(listener);
  }

  /**
   * Leaves the meeting: the others see us go at once. Resolves when the
   * server has been told (while reconnecting: once a socket is up again), or
   * could not be within the core's connect timeout.
   */
  async leave() {
    if (this._disposed) return;
    const left = new Promise((resolve) => {
      if (this.state === 'left' || this.state === 'failed') return resolve();
      const off = this.on('state', ({ state }) => (state === 'left' || state === 'failed') && (off(), resolve()));
    });
    this._input((c, t) => c.leave(t));
    // The core bounds the wait itself; this only guards against a core that
    // would not (a bug), so that leave() never hangs.
    let timer;
    await Promise.race([left, new Promise((r) => (timer = setTimeout(r, 30000)))]);
    clearTimeout(timer);
    this.dispose();
  }

  setMicrophone(on) {
    this.microphoneOn = !!on;
    this._input((c, t) => c.setMuted(t, 'audio', !on));
  }

  // The camera only: a shared screen keeps going (the core knows which
  // tracks are screens and tells the others what they see).
  setCamera(on) {
    this.cameraOn = !!on;
    this._input((c, t) => c.setMuted(t, 'video', !on));
  }

  /** Sends `track` instead of the current outgoing video (screen share); null stops video. */
  replaceVideoTrack(track) {
    return this._replaceTrack('video', track);
  }

  /** Replaces the outgoing audio track (a different microphone); null stops audio. */
  replaceAudioTrack(track) {
    return this._replaceTrack('audio', track);
  }

  /**
   * The state of one peer now, as the core knows it (undefined for an id not
   * in the meeting): what the events said last, for an app that subscribed
   * late or renders from state.
   */
  peerStatus(peerId) {
    if (typeof peerId !== 'string') throw new MeshmeetError('invalid-argument', 'peerStatus needs a peer id');
    if (!this._peers.has(peerId) || !this._client) return undefined;
    const found = JSON.parse(this._client.snapshot()).peers.find((p) => p.peer === peerId);
    if (!found) return undefined;
    return {
      peer: this._peer(peerId),
      state: found.state,
      audio: found.audio,
      video: found.video,
      screen: found.screen,
      quality: found.quality === 'unknown' ? null : found.quality,
      verificationCode: found.verificationCode || null,
      trust: found.trust,
    };
  }

  /**
   * Sends app data to everyone connected, or to the peer ids in `to`, over
   * the connections themselves (the server never sees it). See index.d.ts.
   */
  async send(data, { to, reliable = true } = {}) {
    if (this.self === null || this._disposed || this.state === 'left' || this.state === 'failed')
      throw new MeshmeetError('not-joined', 'send() needs a joined meeting');
    if (typeof reliable !== 'boolean') throw new MeshmeetError('invalid-argument', '`reliable` must be a boolean');
    const ids = to === undefined ? null : typeof to === 'string' ? [to] : to;
    if (ids !== null && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string')))
      throw new MeshmeetError('invalid-argument', '`to` must be a peer id or an array of peer ids');
    const message = encodeAppData(data);
    if (message.problem) throw new MeshmeetError('invalid-argument', message.problem);
    const limit = reliable ? MAX_MESSAGE_BYTES : MAX_LOSSY_BYTES;
    if (message.bytes.length > limit)
      throw new MeshmeetError('data-too-large', `${message.bytes.length} bytes is over the ${limit} bytes of one ${reliable ? 'reliable' : 'lossy'} message`);
    // Whom it goes to, all checked before anything is sent: a send either
    // reaches every channel it names or none.
    const open = new Map();  // peer id → its open app channel of that kind
    for (const entry of this._pcs.values()) {
      const channel = reliable ? entry.app.reliable : entry.app.lossy;
      if (channel.readyState === 'open') open.set(entry.peer, channel);
    }
    const targets = [];
    for (const id of ids ?? this._peers.keys()) {
      if (!this._peers.has(id)) throw new MeshmeetError('unknown-peer', `no peer ${id} in the meeting`, { peer: id });
      const channel = open.get(id);
      if (channel) targets.push([id, channel]);
      else if (ids) throw new MeshmeetError('peer-not-connected', `no open connection to ${id} (yet)`, { peer: id });
    }
    const chunks = [...appDataChunks(message)];
    const size = chunks.reduce((sum, c) => sum + c.length, 0);
    const cap = SEND_BUFFER_BYTES[reliable ? 'reliable' : 'lossy'];
    const waiting = (channel) => Math.max(channel.bufferedAmount, this._handed.get(channel) ?? 0);
    for (const [id, channel] of targets) {
      if (waiting(channel) + size > cap)
        throw new MeshmeetError('send-buffer-full', `${waiting(channel)} bytes still wait to go to ${id}: try again once they are sent`, { peer: id });
    }
    for (const [, channel] of targets) {
      for (const chunk of chunks) channel.send(chunk);
      this._handed.set(channel, (this._handed.get(channel) ?? 0) + size);
    }
    this._handedTimer ||= setTimeout(() => {
      this._handed.clear();
      this._handedTimer = 0;
    }, 0);
  }

  /**
   * The person read the verification code aloud with `peerId` and it
   * matched: the peer is 'verified' (its next 'verification-code' event says
   * so). A later connection with another code makes it 'changed' until
   * marked again. False when no code is shown for that peer yet.
   */
  markVerified(peerId) {
    if (typeof peerId !== 'string') throw new MeshmeetError('invalid-argument', 'markVerified needs a peer id');
    let marked = false;
    this._input((c, t) => {
      marked = c.markVerified(t, peerId);
    });
    return marked;
  }

  /** Sets the uplink budget (kbit/s) shared by the video copies we upload. */
  setUplinkBudget(kbps) {
    if (!Number.isFinite(kbps) || kbps <= 0) throw new MeshmeetError('invalid-argument', 'kbps must be a positive number');
    this._input((c, t) => c.setUplinkBudget(t, Math.round(kbps)));
  }

  /** How loud a peer is now (0–1), from the audio level its RTP packets carry. */
  audioLevel(peerId) {
    for (const entry of this._pcs.values()) {
      if (entry.peer !== peerId) continue;
      for (const receiver of entry.pc.getReceivers?.() ?? []) {
        if (receiver.track?.kind !== 'audio') continue;
        const [latest] = receiver.getSynchronizationSources?.() ?? [];
        if (latest) return latest.audioLevel ?? 0;
      }
    }
    return 0;
  }

  /** The remote tracks of a peer that are live now. */
  remoteTracks(peerId) {
    const out = [];
    for (const [key, entry] of this._remoteTracks) {
      const pc = this._pcs.get(Number(key.split('/')[0]));
      if (pc?.peer === peerId && entry.track.readyState !== 'ended') out.push(entry.track);
    }
    return out;
  }

  /** Closes everything without telling the server (prefer leave()). Idempotent. */
  dispose() {
    if (this._disposed) return;
    this._disposed = true;
    this._backlog = null;
    globalThis.removeEventListener?.('online', this._onOnline);
    this._lifetime.abort();
    for (const id of this._timers.values()) clearTimeout(id);
    this._timers.clear();
    clearTimeout(this._handedTimer);
    for (const ws of this._sockets.values()) this._closeSocket(ws, 1000, 'dispose');
    this._sockets.clear();
    for (const entry of this._pcs.values()) this._closePc(entry);
    this._pcs.clear();
    this._remoteTracks.clear();
    this._client.delete();
    this._client = null;
    if (this.state !== 'left' && this.state !== 'failed') this._setState('left', 0);
  }

  // ---- the loop: inputs in, outputs carried out --------------------------

  async _join(url, meetingId, name, timeoutMs, probe, signal) {
    this._selfName = name;
    this._probe = probe;
    let timer = 0;
    let onAbort = null;
    const joined = new Promise((resolve, reject) => {
      this._settle = { resolve, reject };
      // Aborted as fetch is: rejected with the signal's reason, nothing left behind.
      onAbort = () => {
        if (!this._settle) return;
        this._settle = null;
        reject(signal.reason ?? new DOMException('The join was aborted.', 'AbortError'));
      };
      signal?.addEventListener('abort', onAbort);
      // The core keeps retrying a server that does not answer (right for a
      // meeting in progress); a join nobody ever welcomed gives up here.
      timer = setTimeout(() => {
        if (!this._settle) return;
        this._settle = null;
        reject(new MeshmeetError('server-unreachable', `no answer from the meeting server within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    joined.finally(() => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }).catch(() => {});
    this._input((c, t) => c.join(t, url, meetingId, name));
    if (this._localStream) {
      for (const track of this._localStream.getTracks()) this._useLocalTrack(track.kind, track);
    }
    try {
      await joined;
    } catch (e) {
      this.dispose();
      throw e;
    } finally {
      this._probe = null;
    }
    // The app gets this Meeting in a microtask; whatever it subscribes
    // before the next task still hears what happened while joining.
    setTimeout(() => (this._backlog = null), 0);
    return this;
  }

  // A socket closed before it ever opened while the join is pending. A
  // WebSocket cannot see why; the server's HTTP answers can tell. A readable
  // refusal of the lookup (e.g. too-many-connections) names itself. When the
  // lookup cannot judge our origin (a same-origin page, whose server's
  // allow-list may leave its own origin out; Node without `origin`) and the
  // server answers it and /healthz says it is serving, it refused the upgrade
  // itself, which the protocol does only for an Origin not on its allow-list.
  // Otherwise (no answer, shutting down, an origin the lookup found allowed)
  // the core keeps trying and the join timeout decides.
  _onSocketRefused() {
    if (!this._settle || !this._probe || this._probing) return;
    this._probing = true;
    this._probe(this._lifetime.signal).then((found) => {
      this._probing = false;
      if (!this._settle || this._disposed || !found.answered) return;
      let error;
      if (found.code && JOIN_FATAL.has(found.code)) error = typedError(found.code, found.message, { status: found.status });
      else if (found.originAllowed === false || (found.originAllowed === null && found.ok && found.healthy))
        error = forbiddenOrigin(found.base, this._origin ?? globalThis.location?.origin);
      if (!error) return;
      this._settle.reject(error);
      this._settle = null;
    });
  }

  // Resolves once every connection's sender carries `track` (replaceTrack
  // is asynchronous). All or nothing: if any sender refused it, every one
  // goes back to the previous track (so the core's idea of what is sent
  // stays true, and the same call can be tried again) and the promise
  // rejects with 'track-not-replaced'.
  async _replaceTrack(kind, track) {
    if (track !== null && (typeof track !== 'object' || track.kind !== kind))
      throw new MeshmeetError('invalid-argument', `a ${kind} MediaStreamTrack or null`);
    if (this._disposed) throw new MeshmeetError('not-joined', 'the meeting was left');
    const previous = this._sending[kind];
    const failure = await this._trackOutputs(() => this._useLocalTrack(kind, track));
    if (!failure) return;
    if (!this._disposed) await this._trackOutputs(() => this._useLocalTrack(kind, previous));
    throw new MeshmeetError('track-not-replaced', `a connection refused the new ${kind} track: ${failure.name ?? 'Error'}: ${failure.message ?? failure}`);
  }

  // Runs `change` and waits for the sender operations its outputs started; the first failure, if any.
  async _trackOutputs(change) {
    const started = [];
    this._trackOps = started;
    try {
      change();
    } finally {
      this._trackOps = null;
    }
    return (await Promise.allSettled(started)).find((r) => r.status === 'rejected')?.reason;
  }

  _useLocalTrack(kind, track) {
    this._sending[kind] = track ?? null;
    const screen = kind === 'video' && isScreen(track);
    if (screen) {
      this._screens.add(track.id);
      // Text: the encoder keeps detail and gives up motion (unless the app chose otherwise).
      if (!track.contentHint) track.contentHint = 'text';
    }
    if (track) this._localTracks.set(track.id, track);
    // The uplink budget scales from the real height (0: unknown).
    const height = kind === 'video' ? Math.max(0, Math.round(track?.getSettings?.().height ?? 0)) : 0;
    this._input((c, t) => c.setLocalTrack(t, screen ? 'screen' : kind, track ? track.id : '', height));
  }

  // Every call into C++ goes through here: it checks the object is alive,
  // then carries out whatever the core asked for.
  _input(fn) {
    if (this._disposed || !this._client) return;
    fn(this._client, now());
    this._pump();
  }

  _pump() {
    if (this._pumping) return;  // an output's side effect fed an input: the outer loop drains it
    this._pumping = true;
    try {
      while (!this._disposed && this._client.hasOutputs()) {
        for (const out of JSON.parse(this._client.drainOutputs())) {
          if (this._disposed) break;
          try {
            this._carryOut(out);
          } catch (e) {
            this._outputFailed(out, e);
          }
        }
      }
    } finally {
      this._pumping = false;
    }
  }

  // Each output is carried out on its own: one that throws (new
  // RTCPeerConnection with a turn: URL it refuses, a call on an object in
  // the wrong state) must not cost the rest of its batch. The core hears of
  // it as of any failure, so that its recovery takes over; the rest is logged.
  _outputFailed(o, e) {
    const name = e?.name ?? 'Error';
    const message = e?.message ?? String(e);
    this._logger?.({ level: 'warn', machine: 'shim', subject: o.pc !== undefined ? String(o.pc) : '', from: '', to: '', detail: `${o.type} threw ${name}: ${message}` });
    if (this._trackOps && (o.type === 'add-track' || o.type === 'replace-track')) this._trackOps.push(Promise.reject(e));
    if (o.type === 'create-peer-connection') this._input((c, t) => c.createPeerConnectionFailed(t, o.pc, name, message));
    else if (typeof o.op === 'number') this._input((c, t) => c.operationFailed(t, o.pc, o.op, name, message));
    // Those of the app's events are a listener's own: _emit already keeps them apart.
  }

  _carryOut(o) {
    switch (o.type) {
      case 'open-socket': return this._openSocket(o.socket, o.url);
      case 'close-socket': {
        const ws = this._sockets.get(o.socket);
        this._sockets.delete(o.socket);
        if (ws) this._closeSocket(ws, o.code, o.reason);
        return;
      }
      case 'send-text': {
        const ws = this._sockets.get(o.socket);
        if (ws && ws.readyState === 1) ws.send(o.text);
        return;
      }
      case 'create-peer-connection': return this._createPc(o);
      case 'set-configuration': {
        const entry = this._pcs.get(o.pc);
        // Fresh ICE servers; everything else (the transport policy, the
        // certificates) as the connection was created.
        if (entry) entry.pc.setConfiguration({ ...entry.pc.getConfiguration(), ...o.config });
        return;
      }
      case 'close-peer-connection': {
        const entry = this._pcs.get(o.pc);
        this._pcs.delete(o.pc);
        if (entry) this._closePc(entry);
        for (const key of [...this._remoteTracks.keys()]) if (key.startsWith(`${o.pc}/`)) this._remoteTracks.delete(key);
        return;
      }
      case 'add-track': {
        const entry = this._pcs.get(o.pc);
        const track = this._localTracks.get(o.track);
        if (!entry || !track) return;
        const stream = this._localStream ?? undefined;
        entry.senders[o.kind] = stream ? entry.pc.addTrack(track, stream) : entry.pc.addTrack(track);
        return;
      }
      case 'remove-track': {
        const entry = this._pcs.get(o.pc);
        const sender = entry?.senders[o.kind];
        if (!sender) return;
        entry.senders[o.kind] = null;
        try {
          entry.pc.removeTrack(sender);
        } catch {
          /* already closed */
        }
        return;
      }
      case 'replace-track': {
        const sender = this._pcs.get(o.pc)?.senders[o.kind];
        if (!sender) return;
        const replaced = sender.replaceTrack(o.track ? this._localTracks.get(o.track) ?? null : null);
        replaced.catch(() => {});  // a connection closed meanwhile: the core moves on; replace*Track reports it
        this._trackOps?.push(replaced);
        return;
      }
      case 'set-local-description': return this._setLocalDescription(o);
      case 'set-remote-description': return this._operation(o.pc, o.op, (pc) => pc.setRemoteDescription({ type: o.descriptionType, sdp: o.sdp }));
      case 'add-ice-candidate': return this._operation(o.pc, o.op, (pc) => pc.addIceCandidate(o.candidate));
      case 'restart-ice': {
        const entry = this._pcs.get(o.pc);
        if (!entry) return;
        if (typeof entry.pc.restartIce === 'function') return entry.pc.restartIce();
        // Older implementations have no restartIce(): do what it would. The
        // next offer is made with createOffer({iceRestart: true}), and the
        // negotiationneeded the core waits for is reported from here.
        entry.iceRestartFrom ??= iceUfrag(entry.pc.currentLocalDescription?.sdp);
        entry.iceRestartAsked = false;
        return this._checkIceRestart(entry);
      }
      case 'set-sender-parameters': return this._operation(o.pc, o.op, () => this._setSenderParameters(o));
      case 'send-data': {
        const channel = this._pcs.get(o.pc)?.channel;
        if (channel && channel.readyState === 'open') channel.send(o.text);
        return;
      }
      case 'get-stats': return this._getStats(o.pc);
      case 'set-track-enabled': return this._enableTracks(o.kind, o.enabled);
      case 'start-timer': {
        const id = setTimeout(() => {
          this._timers.delete(o.timer);
          this._input((c, t) => c.timerFired(t, o.timer));
        }, Math.max(0, o.delayMs));
        this._timers.set(o.timer, id);
        return;
      }
      case 'cancel-timer': {
        clearTimeout(this._timers.get(o.timer));
        this._timers.delete(o.timer);
        return;
      }
      // events for the app
      case 'state': return this._setState(o.state, o.attempt);
      case 'welcomed': {
        this.self = { id: o.self, name: this._selfName ?? '' };
        this.id = o.meetingId;
        this.name = o.meetingName;
        this.relayOnly = o.relayOnly === true;
        if (this._settle) {
          this._settle.resolve(this);
          this._settle = null;
        }
        return this._emit('welcomed', { self: o.self, how: o.how, relayOnly: this.relayOnly });
      }
      case 'peer-joined': {
        const peer = { id: o.peer, name: o.name };
        this._peers.set(o.peer, peer);
        return this._emit('peer-joined', peer);
      }
      case 'peer-left': {
        const peer = this._peers.get(o.peer) ?? { id: o.peer, name: '' };
        this._peers.delete(o.peer);
        return this._emit('peer-left', { peer, reason: o.reason });
      }
      case 'peer-state': return this._emit('peer-state', { peer: this._peer(o.peer), state: o.state });
      case 'track': {
        const entry = this._remoteTracks.get(`${o.pc}/${o.track}`);
        if (entry) this._emit('track', { peer: this._peer(o.peer), track: entry.track, streams: entry.streams, kind: o.kind });
        return;
      }
      case 'peer-media': return this._emit('peer-media', { peer: this._peer(o.peer), audio: o.audio, video: o.video, screen: o.screen });
      case 'quality':
        return this._emit('quality', { peer: this._peer(o.peer), level: o.level, rttMs: o.rttMs >= 0 ? o.rttMs : null, loss: o.loss, kbpsIn: o.kbpsIn, kbpsOut: o.kbpsOut });
      case 'verification-code': return this._emit('verification-code', { peer: this._peer(o.peer), code: o.code, trust: o.trust });
      case 'error': {
        const error = typedError(o.code, o.message, { peer: o.peer || undefined });
        if (this._settle && JOIN_FATAL.has(o.code)) {
          this._settle.reject(error);
          this._settle = null;
          return;
        }
        return this._emit('error', error);
      }
      case 'log':
        this._logger?.(o);
        return;
      default:
        this._logger?.({ level: 'warn', machine: 'shim', detail: `unknown output ${o.type}` });
    }
  }

  // Muting reaches every track of the kind given so far, so that none is
  // sent on unnoticed; the camera's off never reaches a shared screen.
  _enableTracks(kind, enabled) {
    for (const track of this._localTracks.values()) if (track.kind === kind && !this._screens.has(track.id)) track.enabled = enabled;
  }

  _peer(id) {
    return this._peers.get(id) ?? { id, name: '' };
  }

  _setState(state, attempt) {
    this.state = state;
    if (state === 'failed' && this._settle) {
      this._settle.reject(new MeshmeetError('server-unreachable', 'could not join: the signaling server is unreachable'));
      this._settle = null;
    }
    this._emit('state', { state, attempt });
  }

  _emit(type, detail) {
    this._backlog?.push({ type, detail });
    for (const listener of [...(this._listeners.get(type) ?? [])]) this._call(listener, detail);
  }

  // A listener that throws is the app's bug: reported, never our loop's end.
  _call(listener, detail) {
    try {
      listener(detail);
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }

  // ---- browser objects -----------------------------------------------------

  _openSocket(handle, url) {
    let ws;
    try {
      // `origin` is the `ws` package's option (Node); browsers send the page's.
      ws = this._origin ? new this._WebSocket(url, undefined, { origin: this._origin }) : new this._WebSocket(url);
    } catch {
      return this._input((c, t) => c.socketClosed(t, handle, 1006));
    }
    let opened = false;
    this._sockets.set(handle, ws);
    // Late events from a socket the core has let go of are dropped here, and
    // ignored by the core too (handles are never reused).
    const live = () => this._sockets.get(handle) === ws;
    ws.onopen = () => {
      opened = true;
      if (live()) this._input((c, t) => c.socketOpened(t, handle));
    };
    ws.onmessage = (e) => live() && typeof e.data === 'string' && this._input((c, t) => c.socketMessage(t, handle, e.data));
    ws.onclose = (e) => {
      if (!live()) return;
      this._sockets.delete(handle);
      this._input((c, t) => c.socketClosed(t, handle, e.code ?? 1006));
      if (!opened) this._onSocketRefused();
    };
    ws.onerror = () => {};
  }

  _closeSocket(ws, code, reason) {
    ws.onopen = ws.onmessage = null;
    // Closing one still connecting makes it report an error (Node's `ws`
    // throws one that nobody listens to): heard and dropped.
    ws.onerror = () => {};
    try {
      if (ws.readyState === 0 || ws.readyState === 1) ws.close(code >= 3000 || code === 1000 ? code : 1000, reason?.slice(0, 100));
    } catch {
      /* already closing */
    }
  }

  // Throws what the browser throws (see _outputFailed); nothing is kept then.
  _createPc(o) {
    const pc = new this._RTCPeerConnection(o.config ?? {});
    let channel;
    let app;
    try {
      channel = pc.createDataChannel('meshmeet', { negotiated: true, id: 0 });
      app = openAppChannels(pc);
    } catch (e) {
      pc.close();
      throw e;
    }
    // iceRestartFrom: the local ufrag an emulated restartIce() replaces (see restart-ice).
    const entry = { pc, channel, app, senders: { audio: null, video: null }, peer: o.peer, handle: o.pc, iceRestartFrom: null, iceRestartAsked: false };
    this._pcs.set(o.pc, entry);
    const live = () => this._pcs.get(o.pc) === entry;
    const feed = (fn) => live() && this._input(fn);
    pc.onnegotiationneeded = () => feed((c, t) => c.negotiationNeeded(t, o.pc));
    pc.onicecandidate = (e) => feed((c, t) => c.iceCandidate(t, o.pc, e.candidate ? JSON.stringify(e.candidate.toJSON?.() ?? e.candidate) : ''));
    pc.onsignalingstatechange = () => {
      feed((c, t) => c.signalingState(t, o.pc, pc.signalingState));
      if (live()) this._checkIceRestart(entry);
    };
    pc.oniceconnectionstatechange = () => feed((c, t) => c.iceConnectionState(t, o.pc, pc.iceConnectionState));
    pc.onconnectionstatechange = () => feed((c, t) => c.connectionState(t, o.pc, pc.connectionState));
    pc.ontrack = (e) => {
      if (!live()) return;
      this._remoteTracks.set(`${o.pc}/${e.track.id}`, { track: e.track, streams: [...(e.streams ?? [])] });
      feed((c, t) => c.track(t, o.pc, e.track.id, e.track.kind, e.streams?.[0]?.id ?? ''));
    };
    channel.onopen = () => {
      feed((c, t) => c.dataChannelOpen(t, o.pc));
      // The channel runs over DTLS: it is up, and the certificate is known
      // (at connectionstatechange Chrome sometimes has none to give yet).
      remoteCertificate(pc).then((fp) => fp && feed((c, t) => c.remoteCertificate(t, o.pc, fp)));
    };
    channel.onclose = () => feed((c, t) => c.dataChannelClosed(t, o.pc));
    channel.onmessage = (e) => typeof e.data === 'string' && feed((c, t) => c.dataChannelMessage(t, o.pc, e.data));
    for (const reliable of [true, false]) {
      const reader = new AppDataReader();
      (reliable ? app.reliable : app.lossy).onmessage = (e) => {
        if (!live()) return;
        const read = reader.push(e.data);
        if (read?.problem) this._logger?.({ level: 'warn', machine: 'shim', subject: entry.peer, from: '', to: '', detail: `app data dropped: ${read.problem}` });
        else if (read) this._emit('data', { from: this._peer(entry.peer), data: read.data, reliable });
      };
    }
  }

  _closePc(entry) {
    const { pc, channel, app } = entry;
    pc.onnegotiationneeded = pc.onicecandidate = pc.onsignalingstatechange = null;
    pc.oniceconnectionstatechange = pc.onconnectionstatechange = pc.ontrack = null;
    channel.onopen = channel.onclose = null;
    for (const c of [channel, app.reliable, app.lossy]) {
      c.onmessage = null;
      try {
        c.close();
      } catch {
        /* closed */
      }
    }
    // close() before dropping: browsers free closed connections slowly and cap their number.
    try {
      pc.close();
    } catch {
      /* closed */
    }
  }

  _operation(handle, op, run) {
    const entry = this._pcs.get(handle);
    if (!entry) return;
    const live = () => this._pcs.get(handle) === entry;
    Promise.resolve()
      .then(() => run(entry.pc))
      .then(
        () => live() && this._input((c, t) => c.operationDone(t, handle, op)),
        (e) => live() && this._input((c, t) => c.operationFailed(t, handle, op, e?.name ?? 'Error', e?.message ?? String(e))),
      )
      .then(() => live() && this._checkIceRestart(entry));
  }

  // The emulated restartIce() (see restart-ice): done once a description
  // with new local ICE credentials is in place in `stable`. Until then, each
  // time the connection is in `stable` again, negotiationneeded once, as the
  // browser's negotiation-needed flag would (the core defers it while a
  // description operation of its own is still pending).
  _checkIceRestart(entry) {
    if (entry.iceRestartFrom == null) return;
    const { pc } = entry;
    if (pc.signalingState !== 'stable') {
      entry.iceRestartAsked = false;
      return;
    }
    if (iceUfrag(pc.currentLocalDescription?.sdp) !== entry.iceRestartFrom) {
      entry.iceRestartFrom = null;
      return;
    }
    if (entry.iceRestartAsked) return;
    entry.iceRestartAsked = true;
    queueMicrotask(() => {
      if (this._pcs.get(entry.handle) === entry && entry.iceRestartFrom != null && pc.signalingState === 'stable')
        this._input((c, t) => c.negotiationNeeded(t, entry.handle));
    });
  }

  _setLocalDescription(o) {
    if (o.descriptionType === 'rollback') return this._operation(o.pc, o.op, (pc) => pc.setLocalDescription({ type: 'rollback' }));
    const entry = this._pcs.get(o.pc);
    if (!entry) return;
    const live = () => this._pcs.get(o.pc) === entry;
    const offering = () => entry.pc.signalingState === 'stable' || entry.pc.signalingState === 'have-local-offer';
    Promise.resolve()
      .then(() => (entry.iceRestartFrom != null && offering() ? setLocalIceRestartOffer(entry.pc) : setLocalDescriptionImplicit(entry.pc)))
      .then(
        () => {
          if (!live()) return;
          const d = entry.pc.localDescription;
          this._input((c, t) => c.localDescription(t, o.pc, o.op, d?.type ?? '', d?.sdp ?? ''));
        },
        (e) => live() && this._input((c, t) => c.operationFailed(t, o.pc, o.op, e?.name ?? 'Error', e?.message ?? String(e))),
      )
      .then(() => live() && this._checkIceRestart(entry));
  }

  // Run as an operation: the outcome goes back to the core, which asks again
  // later when the browser refuses (e.g. before the sender is negotiated).
  _setSenderParameters(o) {
    const sender = this._pcs.get(o.pc)?.senders[o.kind];
    if (!sender || typeof sender.getParameters !== 'function') throw new DOMException(`no ${o.kind} sender`, 'InvalidStateError');
    const params = sender.getParameters();
    if (!params.encodings || params.encodings.length === 0) params.encodings = [{}];
    params.encodings[0].maxBitrate = o.maxBitrateBps;
    if (o.kind === 'video') params.encodings[0].scaleResolutionDownBy = o.scaleResolutionDownBy;
    if (o.maxFramerate > 0) params.encodings[0].maxFramerate = o.maxFramerate;  // a shared screen
    else delete params.encodings[0].maxFramerate;
    return sender.setParameters(params);  // at once: getParameters' result is only good until the task ends
  }

  _getStats(handle) {
    const entry = this._pcs.get(handle);
    if (!entry) return;
    Promise.resolve()
      .then(() => entry.pc.getStats())
      .then((report) => {
        if (this._pcs.get(handle) !== entry) return;
        let rtt = -1;
        let lost = 0;
        let received = 0;
        let bytesIn = 0;
        let bytesOut = 0;
        let remoteLost = 0;  // what the peer reports it lost of ours (RTCP receiver reports)
        let sent = 0;
        report.forEach((s) => {
          if (s.type === 'candidate-pair' && (s.nominated || s.selected) && s.state === 'succeeded' && typeof s.currentRoundTripTime === 'number')
            rtt = s.currentRoundTripTime * 1000;
          if (s.type === 'inbound-rtp') {
            lost += s.packetsLost ?? 0;
            received += s.packetsReceived ?? 0;
            bytesIn += s.bytesReceived ?? 0;
          }
          if (s.type === 'outbound-rtp') {
            bytesOut += s.bytesSent ?? 0;
            sent += s.packetsSent ?? 0;
          }
          if (s.type === 'remote-inbound-rtp') remoteLost += Math.max(0, s.packetsLost ?? 0);
          if (s.type === 'data-channel') {
            bytesIn += s.bytesReceived ?? 0;
            bytesOut += s.bytesSent ?? 0;
          }
        });
        this._input((c, t) => c.stats(t, handle, rtt, lost, received, bytesIn, bytesOut, remoteLost, sent));
      })
      .catch(() => {});
  }
}

/** Live C++ client objects (a leak check for tests). */
export async function liveCoreObjects() {
  return (await loadCore()).liveClients();
}
