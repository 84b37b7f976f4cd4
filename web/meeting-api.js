// joinMeeting and the Meeting it resolves to: the public API of index.d.ts's
// Meeting, and the loop that runs one participant's C++ core. Every call
// into the core goes through Meeting._input, which then drains the core's
// outputs: those meant for the app become Meeting's events and state here;
// the rest act on browser objects and are handed to BrowserObjects
// (browser-objects.js). A module of its own because this is the layer an
// app sees, whose rules (argument checks, typed errors, the join's
// settlement, the event backlog) are about the API, not about WebRTC.

import {
  MAX_LOSSY_BYTES, MAX_MESSAGE_BYTES, SEND_BUFFER_BYTES, appDataChunks, encodeAppData,
} from './app-data.js';
import { BrowserObjects } from './browser-objects.js';
import { loadCore } from './core-loader.js';
import { MeshmeetError, typedError } from './errors.js';
import { forbiddenOrigin, httpBase, lookUpMeeting, serverHealthy, socketUrl } from './server-http.js';
import { VideoViews } from './video-views.js';

// Options the core reads that joinMeeting sets itself: not for coreOptions.
const JOIN_OPTIONS_NOT_CORE = {
  seed: 'use joinMeeting\'s `seed` option',
  uplinkKbps: 'use joinMeeting\'s `uplinkKbps` option',
  iceServers: 'use joinMeeting\'s `iceServers` option',
  debugLog: 'pass a `logger` to joinMeeting',
  entropy: 'the verification code\'s entropy is always fresh and cannot be set',
};

// How long send() waits for the app channels of a peer whose connection is
// up (they open within a round trip or two; this bounds a stalled one).
const APP_CHANNEL_OPEN_WAIT_MS = 5000;

// Errors that end a join attempt before it succeeds.
const JOIN_FATAL = new Set(['meeting-not-found', 'meeting-full', 'too-many-connections', 'forbidden-origin']);

/**
 * Joins a meeting; resolves once the server has welcomed us. The meeting is
 * looked up over HTTP while the WebSocket opens, so an unknown meeting or a
 * refused origin is told at once; a WebSocket refused by a server that
 * answers HTTP is 'forbidden-origin'.
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
  const http = { fetchImpl: options.fetch ?? globalThis.fetch, origin: options.origin, timeoutMs: Math.min(timeoutMs, 5000) };
  // What the server says of this meeting over HTTP (see Meeting._judgeJoin):
  // once beside the WebSocket, and again with /healthz after a WebSocket
  // refused before it opened.
  const lookUp = async (signal) => ({ ...(await lookUpMeeting(base, meeting, { ...http, signal })), base });
  const probe = async (signal) => {
    const [again, healthy] = await Promise.all([lookUp(signal), serverHealthy(base, { ...http, signal })]);
    return { ...again, healthy };
  };
  const m = new Meeting(MADE_BY_JOIN, core, config, { ...options, WebSocket: WebSocketImpl, RTCPeerConnection: PeerConnectionImpl });
  return m._join(url, meeting, options.name ?? '', Math.max(0, deadline - now()), { lookUp, probe }, signal);
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
    this._origin = options.origin;             // Node only: the Origin the WebSocket presents
    this._lifetime = new AbortController();    // aborts HTTP requests still out at dispose()
    this._probe = null;                        // (signal) → what the server says over HTTP, while joining
    this._probing = false;
    this._logger = options.logger;
    this._localStream = options.localStream ?? null;
    // The sockets, peer connections and timers the core drives.
    this._browser = new BrowserObjects({
      WebSocket: options.WebSocket,
      RTCPeerConnection: options.RTCPeerConnection,
      origin: this._origin,
      localStream: this._localStream,
      logger: this._logger,
      input: (fn) => this._input(fn),
      onAppData: (peerId, data, reliable) => this._emit('data', { from: this._peer(peerId), data, reliable }),
      onSocketRefused: () => this._onSocketRefused(),
    });
    this._listeners = new Map();
    // Every event emitted until the app holds this Meeting (and one tick
    // more): replayed to a listener added in that window (see on()).
    this._backlog = [];
    // App data bytes handed to each channel in the current task. Browsers
    // count a send in bufferedAmount at once; node-webrtc only later, so two
    // sends in one task would not see each other's bytes (see send()).
    this._handed = new Map();
    this._handedTimer = 0;
    this._sending = { audio: null, video: null };  // the local track of each kind, as the core was told
    this._peers = new Map();        // peer id → { id, name }
    this._micOff = new Set();       // peers whose last peer-media said their microphone is off
    this._connected = new Set();    // peers whose last peer-state is 'connected'
    this._sendOrder = Promise.resolve();  // the last send()'s wait for opening channels (see send())
    this._views = new VideoViews((peerId, height) => this._input((c, t) => c.setView(t, peerId, height)));
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
    // The device's CPU under pressure (a saturated laptop): the core steps
    // every copy of our video down together (wasm/core/cpu_load.hpp).
    this._stopCpuPressure = watchCpuPressure((state) => this._input((c, t) => c.cpuPressure(t, state)));
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
    const mustBeJoined = () => {
      if (this.self === null || this._disposed || this.state === 'left' || this.state === 'failed')
        throw new MeshmeetError('not-joined', 'send() needs a joined meeting');
    };
    mustBeJoined();
    if (typeof reliable !== 'boolean') throw new MeshmeetError('invalid-argument', '`reliable` must be a boolean');
    const ids = to === undefined ? null : typeof to === 'string' ? [to] : to;
    if (ids !== null && !(Array.isArray(ids) && ids.every((id) => typeof id === 'string')))
      throw new MeshmeetError('invalid-argument', '`to` must be a peer id or an array of peer ids');
    const message = encodeAppData(data);
    if (message.problem) throw new MeshmeetError('invalid-argument', message.problem);
    const limit = reliable ? MAX_MESSAGE_BYTES : MAX_LOSSY_BYTES;
    if (message.bytes.length > limit)
      throw new MeshmeetError('data-too-large', `${message.bytes.length} bytes is over the ${limit} bytes of one ${reliable ? 'reliable' : 'lossy'} message`);
    // A peer is 'connected' (ICE is up) a moment before its app channels
    // open: a send() made in that 'peer-state' handler waits for them
    // instead of missing that peer. Sends wait in the order they were made,
    // so a later one never overtakes an earlier one on any channel.
    const connected = (ids ?? [...this._peers.keys()]).filter((id) => this._connected.has(id));
    const ready = this._sendOrder.then(() => this._browser.appChannelsOpening(reliable, connected, APP_CHANNEL_OPEN_WAIT_MS));
    this._sendOrder = ready;
    await ready;
    mustBeJoined();  // left while it waited
    // Whom it goes to, all checked before anything is sent: a send either
    // reaches every channel it names or none.
    const open = this._browser.appChannelsByPeer(reliable);
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

  /**
   * Tells the mesh that `element` (a <video>) shows `peerId`'s video: from
   * then on that peer sends a picture no larger than the element draws it
   * (in device pixels), and none at all while the element is off-screen or
   * the tab hidden, which saves both ends' CPU and the sender's uplink. It
   * comes back at the right size within about a second of being shown
   * again. Returns a function that stops watching (a peer no element shows
   * any more is sent no video). Peers never observed are sent what the
   * uplink budget affords.
   */
  observeVideo(peerId, element) {
    if (typeof peerId !== 'string') throw new MeshmeetError('invalid-argument', 'observeVideo needs a peer id');
    if (!element || typeof element.getBoundingClientRect !== 'function')
      throw new MeshmeetError('invalid-argument', 'observeVideo needs an element of the page');
    return this._views.observe(peerId, element);
  }

  /** Sets the uplink budget (kbit/s) shared by the video copies we upload. */
  setUplinkBudget(kbps) {
    if (!Number.isFinite(kbps) || kbps <= 0) throw new MeshmeetError('invalid-argument', 'kbps must be a positive number');
    this._input((c, t) => c.setUplinkBudget(t, Math.round(kbps)));
  }

  /**
   * How loud a peer is now (0–1), from the audio level its RTP packets carry;
   * 0 for a peer that says its microphone is off, whatever packets still
   * arrive (a muted microphone sends silence, but a packet of before may
   * still be the latest the browser reports), and for a peer not connected
   * (nothing to hear yet; and asking the browser is a blocking call into its
   * WebRTC thread, which a join keeps busy).
   */
  audioLevel(peerId) {
    if (this._micOff.has(peerId) || !this._connected.has(peerId)) return 0;
    return this._browser.audioLevel(peerId);
  }

  /** The remote tracks of a peer that are live now. */
  remoteTracks(peerId) {
    return this._browser.remoteTracks(peerId);
  }

  /** Closes everything without telling the server (prefer leave()). Idempotent. */
  dispose() {
    if (this._disposed) return;
    this._disposed = true;
    this._backlog = null;
    globalThis.removeEventListener?.('online', this._onOnline);
    this._stopCpuPressure();
    this._lifetime.abort();
    this._views.dispose();
    clearTimeout(this._handedTimer);
    this._browser.closeAll();
    this._client.delete();
    this._client = null;
    if (this.state !== 'left' && this.state !== 'failed') this._setState('left', 0);
  }

  // ---- the loop: inputs in, outputs carried out --------------------------

  async _join(url, meetingId, name, timeoutMs, { lookUp, probe }, signal) {
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
    // The lookup runs beside the socket, not before it: a join the server
    // accepts does not wait an HTTP round trip first (on a loaded device or
    // a far server that is most of the time to "welcome"), and one it
    // refuses is told as soon as either answer says so.
    lookUp(this._lifetime.signal).then((found) => this._judgeJoin(found, false));
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
  // WebSocket cannot see why; the server's HTTP answers can tell.
  _onSocketRefused() {
    if (!this._settle || !this._probe || this._probing) return;
    this._probing = true;
    this._probe(this._lifetime.signal).then((found) => {
      this._probing = false;
      this._judgeJoin(found, true);
    });
  }

  // Rejects a pending join that the server's HTTP answers say it will never
  // accept. A readable refusal of the lookup (meeting-not-found,
  // too-many-connections, …) names itself, and so does an origin the lookup
  // found refused. After an upgrade refused (`upgradeRefused`), when the
  // lookup cannot judge our origin (a same-origin page, whose server's
  // allow-list may leave its own origin out; Node without `origin`) and the
  // server answers it and /healthz says it is serving, it refused the upgrade
  // itself, which the protocol does only for an Origin not on its allow-list.
  // Otherwise (no answer, shutting down, an origin the lookup found allowed)
  // the join goes on: the core keeps trying and the join timeout decides.
  _judgeJoin(found, upgradeRefused) {
    if (!this._settle || this._disposed || !found.answered) return;
    let error;
    if (found.code && JOIN_FATAL.has(found.code)) error = typedError(found.code, found.message, { status: found.status });
    else if (found.originAllowed === false || (upgradeRefused && found.originAllowed === null && found.ok && found.healthy))
      error = forbiddenOrigin(found.base, this._origin ?? globalThis.location?.origin);
    if (!error) return;
    this._settle.reject(error);
    this._settle = null;
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
    const started = this._browser.trackOperations(change);
    return (await Promise.allSettled(started)).find((r) => r.status === 'rejected')?.reason;
  }

  _useLocalTrack(kind, track) {
    this._sending[kind] = track ?? null;
    const screen = kind === 'video' && isScreen(track);
    // Text: the encoder keeps detail and gives up motion (unless the app chose otherwise).
    if (screen && !track.contentHint) track.contentHint = 'text';
    if (track) this._browser.holdLocalTrack(track, screen);
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
            this._browser.outputFailed(out, e);
          }
        }
      }
    } finally {
      this._pumping = false;
    }
  }

  // The outputs meant for the app become state and events here; every
  // other one acts on a browser object.
  _carryOut(o) {
    switch (o.type) {
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
        this._micOff.delete(o.peer);
        this._connected.delete(o.peer);
        this._views.forget(o.peer);
        return this._emit('peer-left', { peer, reason: o.reason });
      }
      case 'peer-state':
        if (o.state === 'connected') this._connected.add(o.peer);
        else this._connected.delete(o.peer);
        return this._emit('peer-state', { peer: this._peer(o.peer), state: o.state });
      case 'track': {
        const entry = this._browser.remoteTrack(o.pc, o.track);
        if (entry) this._emit('track', { peer: this._peer(o.peer), track: entry.track, streams: entry.streams, kind: o.kind });
        return;
      }
      case 'peer-media':
        if (o.audio) this._micOff.delete(o.peer);
        else this._micOff.add(o.peer);
        return this._emit('peer-media', { peer: this._peer(o.peer), audio: o.audio, video: o.video, screen: o.screen });
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
        return this._browser.carryOut(o);
    }
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
}

// Reports the device's CPU pressure state ("nominal", "fair", "serious",
// "critical") through the Compute Pressure API, where the browser has it
// (Chromium; not in Node, nor where a permissions policy refuses it);
// returns what stops it.
const CPU_PRESSURE_SAMPLE_MS = 2000;
function watchCpuPressure(report) {
  if (typeof globalThis.PressureObserver !== 'function') return () => {};
  let observer = null;
  try {
    observer = new globalThis.PressureObserver((records) => {
      const last = records[records.length - 1];
      if (last) report(last.state);
    });
    observer.observe('cpu', { sampleInterval: CPU_PRESSURE_SAMPLE_MS }).catch(() => {});
  } catch {
    return () => {};
  }
  return () => observer.disconnect();
}
