// A fake WebRTC stack for Node tests: RTCPeerConnection, RTCDataChannel,
// RTCRtpSender, MediaStream(Track) and a simulated network that "connects"
// two fake peer connections once their descriptions and ICE candidates fit.
//
// It implements the parts of webrtc-pc the meshmeet shim (web/browser-objects.js)
// relies on, with the spec's rules where they matter to perfect negotiation:
//
// - an operations chain: createOffer/createAnswer/setLocalDescription/
//   setRemoteDescription/addIceCandidate run one at a time, in call order;
// - signaling states with their InvalidStateError rules, explicit rollback,
//   the implicit setLocalDescription() (optional: `implicitSld: false` makes
//   it throw TypeError like node-webrtc), and glare: setRemoteDescription(offer)
//   in have-local-offer rejects with InvalidStateError unless
//   `implicitRollback: true` (modern browsers roll back implicitly);
// - negotiationneeded when the first data channel or a track is added, a
//   track is removed, or restartIce() is called, re-checked whenever the
//   connection returns to stable with an empty operations chain;
// - SDP text with `a=fingerprint:sha-256 …` unique per connection (its DTLS
//   certificate) and `a=ice-ufrag`/`a=ice-pwd` that change on an ICE restart
//   (either side's);
// - ICE candidates trickled asynchronously after setLocalDescription, then the
//   end-of-candidates null; addIceCandidate checks the usernameFragment
//   against the remote description;
// - the network connects two connections whose current descriptions name each
//   other (fingerprints and ufrags both ways) and which hold at least one of
//   each other's candidates: iceConnectionState checking → connected and
//   connectionState connecting → connected; then the negotiated data channels
//   open and carry messages (buffered while the link is down, like SCTP);
// - tests force `failed` / `disconnected` with network.fail() /
//   network.disconnect(), or make pairs unreachable with network.reachable;
//   network.refuseSetParameters = n makes the next n setParameters reject;
//   network.refusePeerConnections = n makes the next n constructors throw,
//   and a turn: URL without credentials throws as in browsers.
//
//   const { RTCPeerConnection, network } = createFakeWebRTC({ seed: 7 });
//   joinMeeting({ ..., RTCPeerConnection: network.peerConnectionClass('alice') });
//   network.openPcs()  // leak check

const noop = () => {};

class Emitter {
  constructor() {
    this._listeners = new Map();
  }
  addEventListener(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, new Set());
    this._listeners.get(type).add(fn);
  }
  removeEventListener(type, fn) {
    this._listeners.get(type)?.delete(fn);
  }
  _fire(type, fields = {}) {
    const event = { type, target: this, ...fields };
    const handler = this[`on${type}`];
    if (typeof handler === 'function') handler.call(this, event);
    for (const fn of [...(this._listeners.get(type) ?? [])]) fn.call(this, event);
  }
}

function domError(name, message) {
  return new DOMException(message, name);
}

// What the constructor and setConfiguration check in browsers (webrtc-pc
// "validate an ICE server"): a turn:/turns: URL without username and
// credential is an InvalidAccessError.
function checkedConfiguration(config) {
  const checked = structuredClone(config ?? {});
  if (checked.iceServers === undefined) return checked;
  if (!Array.isArray(checked.iceServers)) throw new TypeError('iceServers must be an array');
  for (const server of checked.iceServers) {
    const urls = Array.isArray(server?.urls) ? server.urls : [server?.urls];
    for (const url of urls) {
      if (typeof url !== 'string' || !/^(stun|stuns|turn|turns):/.test(url)) throw domError('SyntaxError', `bad ICE server URL ${url}`);
      if (/^turns?:/.test(url) && (server.username === undefined || server.credential === undefined))
        throw domError('InvalidAccessError', `${url} needs a username and a credential`);
    }
  }
  return checked;
}

// Small deterministic PRNG (mulberry32) for ids, ports and jitter (and the
// tests' own seeded choices, such as fake-signaling's signal mangler).
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- media ---------------------------------------------------------------------

let trackCounter = 0;

export class FakeMediaStreamTrack extends Emitter {
  constructor(kind, id = `${kind}-track-${++trackCounter}`) {
    super();
    if (kind !== 'audio' && kind !== 'video') throw new TypeError(`bad kind ${kind}`);
    this.kind = kind;
    this.id = id;
    this.label = `fake ${kind}`;
    this.enabled = true;
    this.muted = false;
    this.readyState = 'live';
  }
  stop() {
    this.readyState = 'ended';
  }
  clone() {
    return new FakeMediaStreamTrack(this.kind);
  }
}

let streamCounter = 0;

export class FakeMediaStream {
  constructor(tracks = [], id = `stream-${++streamCounter}`) {
    this.id = id;
    this._tracks = [...tracks];
  }
  getTracks() {
    return [...this._tracks];
  }
  getAudioTracks() {
    return this._tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks() {
    return this._tracks.filter((t) => t.kind === 'video');
  }
  addTrack(t) {
    if (!this._tracks.includes(t)) this._tracks.push(t);
  }
  removeTrack(t) {
    this._tracks = this._tracks.filter((x) => x !== t);
  }
}

/** A local stream with one audio and one video track. */
export function fakeLocalStream() {
  return new FakeMediaStream([new FakeMediaStreamTrack('audio'), new FakeMediaStreamTrack('video')]);
}

// ---- SDP ---------------------------------------------------------------------------

/**
 * Parses the fake SDP (also tolerates real SDP): fingerprint, ufrag, pwd,
 * and the m-sections with their kind, direction, msid and sender id.
 * Throws an OperationError-ish DOMException when required lines are missing.
 */
export function parseSdp(sdp) {
  if (typeof sdp !== 'string' || !sdp.startsWith('v=0')) throw domError('OperationError', 'SDP does not start with v=0');
  const out = { fingerprint: '', ufrag: '', pwd: '', sections: [], fakePc: '' };
  let section = null;
  for (const raw of sdp.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('m=')) {
      const kind = line.slice(2).split(' ')[0];
      section = { kind, direction: 'sendrecv', msid: null, sender: null };
      out.sections.push(section);
    } else if (line.startsWith('a=fingerprint:') && !out.fingerprint) {
      out.fingerprint = line.slice('a=fingerprint:'.length).trim();
    } else if (line.startsWith('a=ice-ufrag:') && !out.ufrag) {
      out.ufrag = line.slice('a=ice-ufrag:'.length).trim();
    } else if (line.startsWith('a=ice-pwd:') && !out.pwd) {
      out.pwd = line.slice('a=ice-pwd:'.length).trim();
    } else if (line.startsWith('a=x-fake-pc:')) {
      out.fakePc = line.slice('a=x-fake-pc:'.length).trim();
    } else if (section && /^a=(sendrecv|sendonly|recvonly|inactive)$/.test(line)) {
      section.direction = line.slice(2);
    } else if (section && line.startsWith('a=msid:')) {
      const [stream, track] = line.slice('a=msid:'.length).trim().split(' ');
      section.msid = { stream, track };
    } else if (section && line.startsWith('a=x-sender:')) {
      section.sender = line.slice('a=x-sender:'.length).trim();
    }
  }
  if (!/^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(out.fingerprint))
    throw domError('OperationError', `SDP has no valid a=fingerprint:sha-256 line (got ${JSON.stringify(out.fingerprint)})`);
  if (!out.ufrag || !out.pwd) throw domError('OperationError', 'SDP lacks a=ice-ufrag / a=ice-pwd');
  return out;
}

// ---- data channel --------------------------------------------------------------

export class FakeRTCDataChannel extends Emitter {
  constructor(pc, label, init) {
    super();
    this._pc = pc;
    this.label = label;
    this.negotiated = !!init.negotiated;
    this.id = init.id ?? null;
    this.ordered = init.ordered ?? true;
    this.protocol = init.protocol ?? '';
    this.readyState = 'connecting';
    this.bufferedAmount = 0;
    this.binaryType = 'arraybuffer';
    this.onopen = this.onclose = this.onmessage = this.onerror = this.onclosing = null;
    this._outbox = []; // messages waiting for the link to come up
    this.sent = 0;
    this.received = 0;
    this.bytesSent = 0;
    this.bytesReceived = 0;
  }

  send(data) {
    if (this.readyState !== 'open') throw domError('InvalidStateError', `RTCDataChannel.readyState is '${this.readyState}'`);
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength ?? 0;
    this.sent += 1;
    this.bytesSent += size;
    this.bufferedAmount += size;
    // As a browser does: the bytes are copied at send() and arrive as an
    // ArrayBuffer (binaryType 'arraybuffer'), whatever view was sent.
    if (typeof data !== 'string')
      data = ArrayBuffer.isView(data) ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) : data.slice(0);
    this._outbox.push({ data, size });
    this._pc._network._flushChannel(this);
  }

  close() {
    if (this.readyState === 'closed' || this.readyState === 'closing') return;
    this.readyState = 'closing';
    const partner = this._pc._network._partnerChannel(this);
    this._pc._network._later(() => {
      this._closeNow(true);
      if (partner) partner._closeNow(true);
    });
  }

  // Closed by our own pc.close(): no events (webrtc-pc "close the connection").
  _closeSilently() {
    this.readyState = 'closed';
    this._outbox = [];
  }

  _closeNow(withEvent) {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this._outbox = [];
    this.bufferedAmount = 0;
    if (withEvent) this._fire('close');
  }

  _open() {
    if (this.readyState !== 'connecting') return;
    this.readyState = 'open';
    this._fire('open');
  }
}

// ---- RTP sender ----------------------------------------------------------------

let senderCounter = 0;

export class FakeRTCRtpSender {
  constructor(pc, track, streams) {
    this._pc = pc;
    this._id = `s${++senderCounter}`;
    this.track = track;
    this._kind = track.kind;
    this._streams = streams;
    this._removed = false;
    this._params = { transactionId: '', encodings: [{ active: true }], headerExtensions: [], rtcp: {}, codecs: [] };
    this._gotParameters = false;
    this.setParametersCalls = []; // what the shim asked for, for assertions
    this.bytesSent = 0;
    this.packetsSent = 0;
  }

  getParameters() {
    this._params.transactionId = `t${Math.floor(Math.random() * 1e9)}`;
    this._gotParameters = true;
    return structuredClone(this._params);
  }

  async setParameters(params) {
    if (this._pc._closed) throw domError('InvalidStateError', 'the peer connection is closed');
    if (this._pc._network.refuseSetParameters > 0) {
      this._pc._network.refuseSetParameters -= 1;
      this._pc._network.stats.setParametersRefused += 1;
      throw domError('InvalidModificationError', 'refused by the test (network.refuseSetParameters)');
    }
    if (!this._gotParameters || params?.transactionId !== this._params.transactionId)
      throw domError('InvalidModificationError', 'setParameters without a matching getParameters');
    if (!Array.isArray(params.encodings) || params.encodings.length !== this._params.encodings.length)
      throw domError('InvalidModificationError', 'the number of encodings cannot change');
    for (const e of params.encodings) {
      if (e.scaleResolutionDownBy !== undefined && !(e.scaleResolutionDownBy >= 1))
        throw new RangeError('scaleResolutionDownBy must be >= 1');
      if (e.maxBitrate !== undefined && !(Number.isInteger(e.maxBitrate) && e.maxBitrate > 0))
        throw new RangeError(`bad maxBitrate ${e.maxBitrate}`);
    }
    this._gotParameters = false;
    this._params = structuredClone(params);
    this.setParametersCalls.push(structuredClone(params.encodings));
  }

  async replaceTrack(track) {
    const network = this._pc._network;
    // As in a browser, the new track takes over a while later (the encoder is reconfigured).
    if (network.options.replaceTrackDelayMs > 0) await new Promise((r) => setTimeout(r, network.options.replaceTrackDelayMs));
    if (this._pc._closed) throw domError('InvalidStateError', 'the peer connection is closed');
    if (track && track.kind !== this._kind) throw new TypeError('replaceTrack with a track of another kind');
    if (network.refuseReplaceTrack > 0) {
      network.refuseReplaceTrack -= 1;
      throw domError('InvalidModificationError', 'refused by the test (network.refuseReplaceTrack)');
    }
    this.track = track;
  }

  getStats() {
    return this._pc.getStats();
  }
}

// ---- ICE candidate -------------------------------------------------------------

export class FakeRTCIceCandidate {
  constructor(init) {
    this.candidate = init.candidate ?? '';
    this.sdpMid = init.sdpMid ?? null;
    this.sdpMLineIndex = init.sdpMLineIndex ?? null;
    this.usernameFragment = init.usernameFragment ?? null;
  }
  toJSON() {
    return { candidate: this.candidate, sdpMid: this.sdpMid, sdpMLineIndex: this.sdpMLineIndex, usernameFragment: this.usernameFragment };
  }
}

export class FakeRTCSessionDescription {
  constructor({ type, sdp = '' }) {
    this.type = type;
    this.sdp = sdp;
  }
  toJSON() {
    return { type: this.type, sdp: this.sdp };
  }
}

// ---- peer connection -------------------------------------------------------------

const PC_EVENTS = [
  'negotiationneeded',
  'icecandidate',
  'icecandidateerror',
  'signalingstatechange',
  'iceconnectionstatechange',
  'icegatheringstatechange',
  'connectionstatechange',
  'track',
  'datachannel',
];

export class FakeRTCPeerConnection extends Emitter {
  constructor(network, config = {}, owner = '') {
    super();
    if (!(network instanceof FakeNetwork)) throw new TypeError('use createFakeWebRTC() / network.peerConnectionClass()');
    for (const e of PC_EVENTS) this[`on${e}`] = null;
    this._network = network;
    this.owner = owner; // a label for tests (which participant made it)
    this.fakeId = network._nextPcId();
    if (network.refusePeerConnections > 0) {
      network.refusePeerConnections--;
      throw domError('OperationError', 'refused by the test (network.refusePeerConnections)');
    }
    this._config = checkedConfiguration(config);

    this.signalingState = 'stable';
    this.iceConnectionState = 'new';
    this.connectionState = 'new';
    this.iceGatheringState = 'new';
    this.currentLocalDescription = null;
    this.pendingLocalDescription = null;
    this.currentRemoteDescription = null;
    this.pendingRemoteDescription = null;
    this.canTrickleIceCandidates = null;

    this._closed = false;
    this._fingerprint = network._fingerprint();
    this._sessionId = String(Math.floor(network._random() * 1e15));
    this._sdpVersion = 0;
    this._ufrag = ''; // ICE credentials in use (from the last applied local description)
    this._pwd = '';
    this._gathered = new Set(); // ufrags already gathered
    this._restartFrom = null; // restartIce(): the ufrag to replace, until a new one reaches stable
    this._lastOffer = null;
    this._lastAnswer = null;

    this._chain = Promise.resolve();
    this._chainLength = 0;
    this._negotiationNeeded = false;
    this._updateOnEmptyChain = false;
    this._refireIfStillNeeded = false;

    this._senders = [];
    this._channels = [];
    this._remoteTracks = new Map(); // track id → {track, stream}
    this._remoteCandidateUfrags = new Map(); // remote ufrag → candidates added
    this._link = null; // the network link carrying this connection
    this.log = []; // what happened, for debugging failed tests

    // Stats counters.
    this._createdAt = Date.now();
    network._register(this);
  }

  get localDescription() {
    return this.pendingLocalDescription ?? this.currentLocalDescription;
  }
  get remoteDescription() {
    return this.pendingRemoteDescription ?? this.currentRemoteDescription;
  }

  getConfiguration() {
    return structuredClone(this._config);
  }
  setConfiguration(config) {
    if (this._closed) throw domError('InvalidStateError', 'closed');
    const next = checkedConfiguration(config);
    // W3C webrtc-pc setConfiguration: the bundle policy cannot change.
    if ((next.bundlePolicy ?? 'balanced') !== (this._config.bundlePolicy ?? 'balanced'))
      throw domError('InvalidModificationError', 'the bundlePolicy cannot be changed');
    this._config = next;
  }

  getSenders() {
    return [...this._senders];
  }
  getReceivers() {
    return [...this._remoteTracks.values()].map(({ track }) => ({ track }));
  }
  getTransceivers() {
    return this._senders.map((s) => ({ sender: s, receiver: { track: null }, mid: null, direction: s._removed ? 'recvonly' : 'sendrecv' }));
  }

  // ---- operations chain --------------------------------------------------------

  _chainOp(name, fn) {
    if (this._closed) return Promise.reject(domError('InvalidStateError', `${name}: the peer connection is closed`));
    this._chainLength += 1;
    const run = this._chain.then(async () => {
      await this._network._opDelay();
      if (this._closed) throw domError('InvalidStateError', `${name}: the peer connection is closed`);
      return fn();
    });
    this._chain = run.then(noop, noop).then(() => {
      this._chainLength -= 1;
      if (this._chainLength === 0 && this._updateOnEmptyChain) {
        this._updateOnEmptyChain = false;
        this._updateNegotiationNeeded();
      }
    });
    return run;
  }

  _setSignalingState(state) {
    if (this.signalingState === state) return;
    this.log.push(`signaling ${this.signalingState} → ${state}`);
    this.signalingState = state;
    this._fire('signalingstatechange');
  }

  // ---- descriptions ----------------------------------------------------------------

  _credentials(forceNew) {
    if (forceNew || !this._ufrag) return { ufrag: this._network._token(8), pwd: this._network._token(24) };
    return { ufrag: this._ufrag, pwd: this._pwd };
  }

  _activeSenders() {
    return this._senders.filter((s) => !s._removed && s.track);
  }

  _wantsData() {
    return this._channels.length > 0 || (this.remoteDescription && parseSdp(this.remoteDescription.sdp).sections.some((s) => s.kind === 'application'));
  }

  _buildSdp(type, creds, mediaSenders, { data, recvKinds = [] }) {
    const lines = [
      'v=0',
      `o=- ${this._sessionId} ${++this._sdpVersion} IN IP4 127.0.0.1`,
      's=-',
      't=0 0',
      `a=fingerprint:${this._fingerprint}`,
      `a=ice-ufrag:${creds.ufrag}`,
      `a=ice-pwd:${creds.pwd}`,
      'a=ice-options:trickle',
      `a=x-fake-pc:${this.fakeId}`,
    ];
    let mid = 0;
    if (data) {
      lines.push('m=application 9 UDP/DTLS/SCTP webrtc-datachannel', 'c=IN IP4 0.0.0.0', `a=mid:${mid++}`,
        `a=setup:${type === 'offer' ? 'actpass' : 'active'}`, 'a=sctp-port:5000');
    }
    for (const s of mediaSenders) {
      lines.push(`m=${s._kind} 9 UDP/TLS/RTP/SAVPF ${s._kind === 'audio' ? 111 : 96}`, 'c=IN IP4 0.0.0.0', `a=mid:${mid++}`);
      if (s._removed || !s.track) {
        lines.push('a=recvonly');
      } else {
        lines.push('a=sendrecv', `a=msid:${s._streams[0]?.id ?? '-'} ${s.track.id}`);
      }
      lines.push(`a=x-sender:${s._id}`);
    }
    for (const kind of recvKinds) lines.push(`m=${kind} 9 UDP/TLS/RTP/SAVPF 0`, 'c=IN IP4 0.0.0.0', `a=mid:${mid++}`, 'a=recvonly');
    return lines.join('\r\n') + '\r\n';
  }

  _makeOffer() {
    const creds = this._credentials(this._restartFrom !== null);
    const senders = this._senders.filter((s) => !s._removed || s._negotiatedSend);
    const sdp = this._buildSdp('offer', creds, senders, { data: this._wantsData() });
    this._lastOffer = sdp;
    return new FakeRTCSessionDescription({ type: 'offer', sdp });
  }

  _makeAnswer() {
    const remote = parseSdp(this.remoteDescription.sdp);
    const previousRemoteUfrag = this.currentRemoteDescription ? parseSdp(this.currentRemoteDescription.sdp).ufrag : null;
    // The answerer restarts ICE too when the offer does (or when asked to).
    const restart = (previousRemoteUfrag !== null && previousRemoteUfrag !== remote.ufrag) || this._restartFrom !== null;
    const creds = this._credentials(restart);
    // Transceivers pair up by kind: our senders ride on the offer's m-sections
    // of their kind; any left over need a negotiation of their own later.
    const available = { audio: 0, video: 0 };
    for (const s of remote.sections) if (s.kind in available) available[s.kind] += 1;
    const senders = [];
    for (const s of this._senders) {
      if (s._removed && !s._negotiatedSend) continue;
      if (available[s._kind] > 0) {
        available[s._kind] -= 1;
        senders.push(s);
      }
    }
    const recvKinds = [];
    for (const kind of ['audio', 'video']) for (let i = 0; i < available[kind]; i++) recvKinds.push(kind);
    const sdp = this._buildSdp('answer', creds, senders, { data: remote.sections.some((s) => s.kind === 'application'), recvKinds });
    this._lastAnswer = sdp;
    return new FakeRTCSessionDescription({ type: 'answer', sdp });
  }

  createOffer(options = {}) {
    return this._chainOp('createOffer', () => {
      if (this.signalingState !== 'stable' && this.signalingState !== 'have-local-offer')
        throw domError('InvalidStateError', `createOffer in state ${this.signalingState}`);
      if (options?.iceRestart) {
        this.log.push('createOffer({iceRestart: true})');
        this._network.stats.iceRestartOffers += 1;
        this._replaceCredentials();
      }
      return this._makeOffer();
    });
  }

  createAnswer() {
    return this._chainOp('createAnswer', () => {
      if (this.signalingState !== 'have-remote-offer' && this.signalingState !== 'have-local-pranswer')
        throw domError('InvalidStateError', `createAnswer in state ${this.signalingState}`);
      return this._makeAnswer();
    });
  }

  setLocalDescription(description) {
    if (description === undefined || description === null || description.type === undefined || description.type === '') {
      if (!this._network.options.implicitSld) return Promise.reject(new TypeError('Expected an object'));
      description = null;
    } else if (typeof description !== 'object') {
      return Promise.reject(new TypeError('setLocalDescription needs a description'));
    }
    return this._chainOp('setLocalDescription', () => {
      let type = description?.type;
      let sdp = description?.sdp ?? '';
      if (!type) type = ['stable', 'have-local-offer', 'have-remote-pranswer'].includes(this.signalingState) ? 'offer' : 'answer';
      if (type === 'rollback') return this._rollback('setLocalDescription');
      if (type === 'offer') {
        if (this.signalingState !== 'stable' && this.signalingState !== 'have-local-offer')
          throw domError('InvalidStateError', `Failed to set local offer sdp: Called in wrong state: ${this.signalingState}`);
        if (!sdp) sdp = this._makeOffer().sdp;
        else if (sdp !== this._lastOffer) throw domError('InvalidModificationError', 'the offer was not the last one created');
        this._applyLocal('offer', sdp);
        this.pendingLocalDescription = new FakeRTCSessionDescription({ type: 'offer', sdp });
        this._setSignalingState('have-local-offer');
      } else if (type === 'answer' || type === 'pranswer') {
        if (this.signalingState !== 'have-remote-offer' && this.signalingState !== 'have-local-pranswer')
          throw domError('InvalidStateError', `Failed to set local ${type} sdp: Called in wrong state: ${this.signalingState}`);
        if (!sdp) sdp = this._makeAnswer().sdp;
        else if (sdp !== this._lastAnswer) throw domError('InvalidModificationError', 'the answer was not the last one created');
        this._applyLocal(type, sdp);
        if (type === 'answer') {
          this.currentLocalDescription = new FakeRTCSessionDescription({ type: 'answer', sdp });
          this.currentRemoteDescription = this.pendingRemoteDescription;
          this.pendingLocalDescription = null;
          this.pendingRemoteDescription = null;
          this._reachedStable();
          this._setSignalingState('stable');
          this._stableAgain();
        } else {
          this.pendingLocalDescription = new FakeRTCSessionDescription({ type, sdp });
          this._setSignalingState('have-local-pranswer');
        }
      } else {
        throw new TypeError(`bad description type ${type}`);
      }
      this._network._evaluate();
      return undefined;
    });
  }

  // Local ICE credentials from a description we apply; gathering for new ones.
  _applyLocal(type, sdp) {
    const parsed = parseSdp(sdp);
    this.log.push(`local ${type} ufrag ${parsed.ufrag}`);
    this._ufrag = parsed.ufrag;
    this._pwd = parsed.pwd;
    if (!this._gathered.has(parsed.ufrag)) {
      this._gathered.add(parsed.ufrag);
      this._network._gather(this, parsed.ufrag);
    }
  }

  _reachedStable() {
    // Senders now negotiated as sending / no longer sending.
    const local = parseSdp(this.currentLocalDescription.sdp);
    const inLocal = new Set(local.sections.filter((s) => s.direction === 'sendrecv' || s.direction === 'sendonly').map((s) => s.sender));
    for (const s of this._senders) s._negotiatedSend = inLocal.has(s._id);
    if (this._restartFrom !== null && local.ufrag !== this._restartFrom) this._restartFrom = null;
  }

  _rollback(op) {
    if (this.signalingState !== 'have-local-offer' && this.signalingState !== 'have-remote-offer')
      throw domError('InvalidStateError', `${op}(rollback) in state ${this.signalingState}`);
    if (this.signalingState === 'have-local-offer') {
      this.pendingLocalDescription = null;
      // back to the credentials of the current local description
      if (this.currentLocalDescription) {
        const cur = parseSdp(this.currentLocalDescription.sdp);
        this._ufrag = cur.ufrag;
        this._pwd = cur.pwd;
      }
    } else {
      this.pendingRemoteDescription = null;
    }
    this.log.push(`rollback (${op})`);
    this._setSignalingState('stable');
    this._stableAgain();
    return undefined;
  }

  setRemoteDescription(description) {
    if (!description || typeof description !== 'object' || typeof description.type !== 'string')
      return Promise.reject(new TypeError('setRemoteDescription needs {type, sdp}'));
    const { type } = description;
    const sdp = description.sdp ?? '';
    return this._chainOp('setRemoteDescription', () => {
      if (type === 'rollback') return this._rollback('setRemoteDescription');
      if (type !== 'offer' && type !== 'answer' && type !== 'pranswer') throw new TypeError(`bad description type ${type}`);
      const parsed = parseSdp(sdp);
      if (type === 'offer') {
        if (this.signalingState === 'have-local-offer') {
          if (!this._network.options.implicitRollback)
            throw domError('InvalidStateError', 'Failed to set remote offer sdp: Called in wrong state: have-local-offer');
          this.pendingLocalDescription = null;
          if (this.currentLocalDescription) {
            const cur = parseSdp(this.currentLocalDescription.sdp);
            this._ufrag = cur.ufrag;
            this._pwd = cur.pwd;
          }
          this.log.push('implicit rollback');
        } else if (this.signalingState !== 'stable' && this.signalingState !== 'have-remote-offer') {
          throw domError('InvalidStateError', `Failed to set remote offer sdp: Called in wrong state: ${this.signalingState}`);
        }
        this.log.push(`remote offer ufrag ${parsed.ufrag} from pc ${parsed.fakePc}`);
        this.pendingRemoteDescription = new FakeRTCSessionDescription({ type, sdp });
        this._setSignalingState('have-remote-offer');
      } else {
        if (this.signalingState !== 'have-local-offer' && this.signalingState !== 'have-remote-pranswer')
          throw domError('InvalidStateError', `Failed to set remote ${type} sdp: Called in wrong state: ${this.signalingState}`);
        this.log.push(`remote ${type} ufrag ${parsed.ufrag} from pc ${parsed.fakePc}`);
        if (type === 'answer') {
          this.currentRemoteDescription = new FakeRTCSessionDescription({ type, sdp });
          this.currentLocalDescription = this.pendingLocalDescription;
          this.pendingLocalDescription = null;
          this.pendingRemoteDescription = null;
          this._reachedStable();
          this._setSignalingState('stable');
          this._stableAgain();
        } else {
          this.pendingRemoteDescription = new FakeRTCSessionDescription({ type, sdp });
          this._setSignalingState('have-remote-pranswer');
        }
      }
      this._remoteTracksFrom(parsed);
      this._network._evaluate();
      return undefined;
    });
  }

  _remoteTracksFrom(parsed) {
    const present = new Set();
    for (const s of parsed.sections) {
      if (!s.msid || (s.direction !== 'sendrecv' && s.direction !== 'sendonly')) continue;
      present.add(s.msid.track);
      if (this._remoteTracks.has(s.msid.track)) continue;
      const track = new FakeMediaStreamTrack(s.kind, s.msid.track);
      const stream = new FakeMediaStream([track], s.msid.stream);
      this._remoteTracks.set(s.msid.track, { track, stream });
      this._network._later(() => {
        if (!this._closed) this._fire('track', { track, streams: [stream], receiver: { track }, transceiver: {} });
      });
    }
    for (const [id, { track }] of this._remoteTracks) {
      if (!present.has(id) && track.readyState !== 'ended') {
        track.readyState = 'ended';
        track.muted = true;
      }
    }
  }

  addIceCandidate(candidate) {
    return this._chainOp('addIceCandidate', () => {
      if (!this.remoteDescription) throw domError('InvalidStateError', 'addIceCandidate before a remote description');
      if (!candidate || !candidate.candidate) return undefined; // end of candidates
      if (candidate.sdpMid == null && candidate.sdpMLineIndex == null) throw new TypeError('candidate needs sdpMid or sdpMLineIndex');
      const remoteUfrag = parseSdp(this.remoteDescription.sdp).ufrag;
      if (candidate.usernameFragment && candidate.usernameFragment !== remoteUfrag)
        throw domError('OperationError', `candidate ufrag ${candidate.usernameFragment} does not match the remote description's ${remoteUfrag}`);
      this._remoteCandidateUfrags.set(remoteUfrag, (this._remoteCandidateUfrags.get(remoteUfrag) ?? 0) + 1);
      this._network._evaluate();
      return undefined;
    });
  }

  restartIce() {
    if (this._closed) return;
    this.log.push('restartIce()');
    this._replaceCredentials();
    this._updateNegotiationNeeded();
  }

  // New ICE credentials for the next offer (and answers) until one reaches stable.
  _replaceCredentials() {
    if (this._restartFrom === null) this._restartFrom = this._ufrag;
  }

  // ---- tracks and channels ------------------------------------------------------

  createDataChannel(label, init = {}) {
    if (this._closed) throw domError('InvalidStateError', 'createDataChannel on a closed connection');
    if (!init.negotiated) throw new Error('fake-webrtc: only negotiated data channels are modelled');
    if (!Number.isInteger(init.id) || init.id < 0 || init.id > 65534) throw new TypeError('a negotiated channel needs an id');
    if (this._channels.some((c) => c.id === init.id && c.readyState !== 'closed')) throw domError('OperationError', `channel id ${init.id} in use`);
    const channel = new FakeRTCDataChannel(this, String(label), init);
    const first = this._channels.length === 0;
    this._channels.push(channel);
    if (first) this._updateNegotiationNeeded();
    // A channel created on an already-connected connection opens at once.
    if (this._link?.up) this._network._later(() => this._network._openChannels(this._link));
    return channel;
  }

  addTrack(track, ...streams) {
    if (this._closed) throw domError('InvalidStateError', 'addTrack on a closed connection');
    if (!track || (track.kind !== 'audio' && track.kind !== 'video')) throw new TypeError('addTrack needs a MediaStreamTrack');
    if (this._senders.some((s) => s.track === track)) throw domError('InvalidAccessError', 'the track is already being sent');
    // Reuse a sender of the same kind that was removed (as a transceiver would be).
    const reusable = this._senders.find((s) => s._removed && s._kind === track.kind);
    let sender;
    if (reusable) {
      sender = reusable;
      sender._removed = false;
      sender.track = track;
      sender._streams = streams;
    } else {
      sender = new FakeRTCRtpSender(this, track, streams);
      this._senders.push(sender);
    }
    this._updateNegotiationNeeded();
    return sender;
  }

  removeTrack(sender) {
    if (this._closed) throw domError('InvalidStateError', 'removeTrack on a closed connection');
    if (!this._senders.includes(sender)) throw domError('InvalidAccessError', 'not a sender of this connection');
    if (sender._removed) return;
    sender._removed = true;
    sender.track = null;
    this._updateNegotiationNeeded();
  }

  // ---- negotiation-needed ----------------------------------------------------------

  _isNegotiationNeeded() {
    if (this._restartFrom !== null) return true;
    const local = this.currentLocalDescription ? parseSdp(this.currentLocalDescription.sdp) : null;
    if (this._channels.length > 0 && !local?.sections.some((s) => s.kind === 'application')) return true;
    for (const s of this._senders) {
      const sending = !s._removed && !!s.track;
      if (sending !== !!s._negotiatedSend) return true;
    }
    return false;
  }

  // webrtc-pc "update the negotiation-needed flag", run as a task.
  _updateNegotiationNeeded() {
    if (this._closed) return;
    if (this._chainLength > 0) {
      this._updateOnEmptyChain = true;
      return;
    }
    this._network._later(() => {
      if (this._closed) return;
      if (this._chainLength > 0) {
        this._updateOnEmptyChain = true;
        return;
      }
      if (this.signalingState !== 'stable') return;
      const refire = this._refireIfStillNeeded;
      this._refireIfStillNeeded = false;
      if (!this._isNegotiationNeeded()) {
        this._negotiationNeeded = false;
        return;
      }
      // The flag was already set: no new event, unless it was set both before
      // and after returning to stable (the spec's re-fire step).
      if (this._negotiationNeeded && !refire) return;
      this._negotiationNeeded = true;
      this.log.push('negotiationneeded');
      this._network.stats.negotiationNeeded += 1;
      this._fire('negotiationneeded');
    }, 0);
  }

  // Called when a description (or rollback) brings the connection to stable.
  _stableAgain() {
    this._refireIfStillNeeded = this._negotiationNeeded;
    this._updateOnEmptyChain = true;
  }

  // ---- ICE / DTLS states ----------------------------------------------------------------

  _setIceState(ice, conn) {
    if (this._closed) return;
    if (ice && ice !== this.iceConnectionState) {
      this.log.push(`ice ${this.iceConnectionState} → ${ice}`);
      this.iceConnectionState = ice;
      this._fire('iceconnectionstatechange');
    }
    if (conn && conn !== this.connectionState && !this._closed) {
      this.log.push(`connection ${this.connectionState} → ${conn}`);
      this.connectionState = conn;
      this._fire('connectionstatechange');
    }
  }

  // ---- stats -------------------------------------------------------------------------

  async getStats() {
    if (this._closed) throw domError('InvalidStateError', 'getStats on a closed connection');
    await this._network._opDelay();
    const report = new Map();
    const q = this._network._qualityOf(this);
    const up = !!this._link?.up;
    report.set('CP1', {
      id: 'CP1',
      type: 'candidate-pair',
      timestamp: Date.now(),
      state: up ? 'succeeded' : 'in-progress',
      nominated: up,
      currentRoundTripTime: q.rttMs / 1000,
    });
    let i = 0;
    for (const c of this._channels) {
      report.set(`D${i++}`, {
        id: `D${i}`, type: 'data-channel', timestamp: Date.now(), label: c.label, state: c.readyState,
        messagesSent: c.sent, messagesReceived: c.received, bytesSent: c.bytesSent, bytesReceived: c.bytesReceived,
      });
    }
    // Media counters grow with time while connected (~kbps each way).
    const seconds = (Date.now() - this._createdAt) / 1000;
    for (const s of this._activeSenders()) {
      report.set(`O${s._id}`, { id: `O${s._id}`, type: 'outbound-rtp', kind: s._kind, bytesSent: up ? Math.floor(seconds * q.kbps * 125) : 0, packetsSent: up ? Math.floor(seconds * 50) : 0 });
    }
    for (const [id, { track }] of this._remoteTracks) {
      if (track.readyState === 'ended') continue;
      const received = up ? Math.floor(seconds * 50) : 0;
      report.set(`I${id}`, {
        id: `I${id}`, type: 'inbound-rtp', kind: track.kind, bytesReceived: up ? Math.floor(seconds * q.kbps * 125) : 0,
        packetsReceived: received, packetsLost: Math.floor((received * q.loss) / (1 - q.loss || 1)),
      });
    }
    return report;
  }

  // ---- close -------------------------------------------------------------------------

  close() {
    if (this._closed) return;
    this._closed = true;
    this.log.push('close()');
    // webrtc-pc: closing sets the states without firing events.
    this.signalingState = 'closed';
    this.iceConnectionState = 'closed';
    this.connectionState = 'closed';
    for (const c of this._channels) c._closeSilently();
    for (const [, { track }] of this._remoteTracks) track.readyState = 'ended';
    this._network._closed(this);
  }
}

// ---- the network -------------------------------------------------------------------

class Link {
  constructor(a, b, key) {
    this.a = a;
    this.b = b;
    this.key = key;
    this.up = false;
    this.dead = false; // forced failed/disconnected: carries nothing
    this.everUp = false;
  }
  other(pc) {
    return pc === this.a ? this.b : this.a;
  }
}

export class FakeNetwork {
  /**
   * options:
   *   seed               PRNG seed for fingerprints, ufrags and jitter (default 1)
   *   implicitRollback   setRemoteDescription(offer) in have-local-offer rolls back (default false: rejects, like node-webrtc)
   *   implicitSld        setLocalDescription() without arguments works (default true)
   *   restartIce         pc.restartIce() exists (default true; false: only createOffer({iceRestart: true}), like older implementations)
   *   opDelayMs          [min, max] of each chained operation (default [0, 2])
   *   connectDelayMs     checking → connected (default 20)
   *   latencyMs          data-channel delivery and other "wire" delays (default 2)
   *   candidatesPerGathering  host candidates trickled per new ufrag (default 2)
   *   gatherDelayMs      delay before each trickled candidate (default 5)
   *   remoteCloseMs      after the partner closes: its channels close, ICE goes disconnected (default 50)
   *   remoteCloseFailMs  then failed (default 1000; 0 = never)
   *   unreachableFailMs  a pair that cannot reach each other goes failed after this (default 500)
   *   rttMs, loss, kbps  what getStats reports (defaults 20, 0, 300)
   *   replaceTrackDelayMs  how long RTCRtpSender.replaceTrack takes (default 0)
   */
  constructor(options = {}) {
    this.options = {
      seed: 1,
      implicitRollback: false,
      implicitSld: true,
      restartIce: true,
      opDelayMs: [0, 2],
      connectDelayMs: 20,
      latencyMs: 2,
      candidatesPerGathering: 2,
      gatherDelayMs: 5,
      remoteCloseMs: 50,
      remoteCloseFailMs: 1000,
      unreachableFailMs: 500,
      rttMs: 20,
      loss: 0,
      kbps: 300,
      ...options,
    };
    this._random = rng(this.options.seed);
    this._pcIds = 0;
    this.pcs = []; // every connection ever made, in creation order
    this.links = [];
    this._timers = new Set();
    this._quality = new Map(); // pc → {rttMs, loss, kbps}
    this._deadKeys = new Set(); // link keys forced down: only new ICE credentials reconnect
    /** (a, b) → can these two connections reach each other? */
    this.reachable = () => true;
    this.stats = { negotiationNeeded: 0, connects: 0, messages: 0, setParametersRefused: 0, iceRestartOffers: 0 };
    /** The next this many RTCRtpSender.setParameters calls reject (InvalidModificationError). */
    this.refuseSetParameters = 0;
    /** The next this many `new RTCPeerConnection` calls throw (OperationError). */
    this.refusePeerConnections = 0;
    /** The next this many RTCRtpSender.replaceTrack calls reject (InvalidModificationError). */
    this.refuseReplaceTrack = 0;
    this._stopped = false;
  }

  /** An RTCPeerConnection class whose instances are labelled `owner`. */
  peerConnectionClass(owner = '') {
    const network = this;
    const cls = class RTCPeerConnection extends FakeRTCPeerConnection {
      constructor(config) {
        super(network, config, owner);
      }
    };
    if (!network.options.restartIce) Object.defineProperty(cls.prototype, 'restartIce', { value: undefined });
    return cls;
  }

  /** Connections not closed yet. */
  openPcs() {
    return this.pcs.filter((pc) => !pc._closed);
  }

  /** The connection at the other end of pc's link, if it is up. */
  partnerOf(pc) {
    return pc._link && !pc._link.dead ? pc._link.other(pc) : null;
  }

  /** Forces pc's transport to `failed` (and its partner's too unless onlyThisSide). */
  fail(pc, { onlyThisSide = false } = {}) {
    this._breakLink(pc, 'failed', onlyThisSide);
  }

  /**
   * Forces `disconnected`. With recoverAfterMs the same ICE session comes back
   * by itself; without, only an ICE restart (new credentials) reconnects.
   */
  disconnect(pc, { onlyThisSide = false, recoverAfterMs = null } = {}) {
    const link = pc._link;
    this._breakLink(pc, 'disconnected', onlyThisSide);
    if (recoverAfterMs !== null && link) {
      this._deadKeys.delete(link.key);
      this._later(() => {
        if (pc._link !== link || !link.dead) return;
        link.dead = false;
        link.up = true;
        for (const end of [link.a, link.b]) if (end._link === link) end._setIceState('connected', 'connected');
        this._flushLink(link);
      }, recoverAfterMs);
    }
  }

  /** What getStats reports for pc. */
  setQuality(pc, { rttMs, loss, kbps } = {}) {
    const q = { ...this._qualityOf(pc) };
    if (rttMs !== undefined) q.rttMs = rttMs;
    if (loss !== undefined) q.loss = loss;
    if (kbps !== undefined) q.kbps = kbps;
    this._quality.set(pc, q);
  }

  /** Cancels every pending fake-network timer (call from after hooks). */
  stop() {
    this._stopped = true;
    for (const t of this._timers) clearTimeout(t);
    this._timers.clear();
  }

  // ---- internals ------------------------------------------------------------------

  _nextPcId() {
    return ++this._pcIds;
  }
  _register(pc) {
    this.pcs.push(pc);
  }
  _token(n) {
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/';
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this._random() * 64)];
    return s;
  }
  _fingerprint() {
    const bytes = [];
    for (let i = 0; i < 32; i++) bytes.push(Math.floor(this._random() * 256).toString(16).toUpperCase().padStart(2, '0'));
    return `sha-256 ${bytes.join(':')}`;
  }
  _qualityOf(pc) {
    return this._quality.get(pc) ?? { rttMs: this.options.rttMs, loss: this.options.loss, kbps: this.options.kbps };
  }

  _later(fn, ms = this.options.latencyMs) {
    if (this._stopped) return;
    const t = setTimeout(() => {
      this._timers.delete(t);
      fn();
    }, ms);
    this._timers.add(t);
  }

  _opDelay() {
    const [lo, hi] = this.options.opDelayMs;
    const ms = lo + Math.floor(this._random() * (hi - lo + 1));
    return new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));
  }

  _gather(pc, ufrag) {
    const n = this.options.candidatesPerGathering;
    if (pc.iceGatheringState !== 'gathering') {
      pc.iceGatheringState = 'gathering';
      pc._fire('icegatheringstatechange');
    }
    for (let i = 0; i <= n; i++) {
      this._later(() => {
        if (pc._closed || pc._ufrag !== ufrag) return; // superseded (rollback / newer credentials)
        if (i < n) {
          const port = 40000 + Math.floor(this._random() * 20000);
          const candidate = new FakeRTCIceCandidate({
            candidate: `candidate:${i + 1} 1 udp ${2122260223 - i} 127.0.0.1 ${port} typ host generation 0 ufrag ${ufrag} network-id 1`,
            sdpMid: '0',
            sdpMLineIndex: 0,
            usernameFragment: ufrag,
          });
          pc._fire('icecandidate', { candidate });
        } else {
          pc.iceGatheringState = 'complete';
          pc._fire('icegatheringstatechange');
          pc._fire('icecandidate', { candidate: null });
        }
      }, this.options.gatherDelayMs * (i + 1));
    }
  }

  // Connects every pair of connections whose current descriptions and
  // candidates fit; run after every description or candidate is applied.
  _evaluate() {
    if (this._evaluating) return;
    this._evaluating = true;
    queueMicrotask(() => {
      this._evaluating = false;
      const ready = this.pcs.filter((pc) => !pc._closed && pc.signalingState === 'stable' && pc.currentLocalDescription && pc.currentRemoteDescription);
      const info = new Map(ready.map((pc) => [pc, { local: parseSdp(pc.currentLocalDescription.sdp), remote: parseSdp(pc.currentRemoteDescription.sdp) }]));
      for (let i = 0; i < ready.length; i++) {
        for (let j = i + 1; j < ready.length; j++) {
          const a = ready[i];
          const b = ready[j];
          const ia = info.get(a);
          const ib = info.get(b);
          if (ia.local.fingerprint !== ib.remote.fingerprint || ib.local.fingerprint !== ia.remote.fingerprint) continue;
          if (ia.local.ufrag !== ib.remote.ufrag || ib.local.ufrag !== ia.remote.ufrag) continue;
          // At least one side must know a candidate of the other (the other learns a peer-reflexive one).
          if (!a._remoteCandidateUfrags.get(ib.local.ufrag) && !b._remoteCandidateUfrags.get(ia.local.ufrag)) continue;
          const key = `${ia.local.ufrag}/${ib.local.ufrag}`;
          if (a._link && a._link.key === key && a._link.b === b) continue; // already on it
          if (a._link && a._link.key === key && a._link.a === b) continue;
          if (this._deadKeys.has(key)) continue;
          this._connect(a, b, key);
        }
      }
    });
  }

  _connect(a, b, key) {
    const link = new Link(a, b, key);
    const previous = new Set([a._link, b._link].filter(Boolean));
    this.links.push(link);
    a._link = link;
    b._link = link;
    // Messages waiting on the old link of the same pair move over (SCTP survives an ICE restart).
    for (const old of previous) if (old !== link) old.superseded = true;
    if (!this.reachable(a, b)) {
      for (const pc of [a, b]) if (pc.iceConnectionState !== 'connected') pc._setIceState('checking', 'connecting');
      if (this.options.unreachableFailMs > 0)
        this._later(() => {
          for (const pc of [a, b]) if (pc._link === link && !pc._closed) pc._setIceState('failed', 'failed');
          link.dead = true;
        }, this.options.unreachableFailMs);
      return;
    }
    for (const pc of [a, b]) {
      if (pc.iceConnectionState !== 'connected' && pc.iceConnectionState !== 'completed') pc._setIceState('checking', pc.connectionState === 'connected' ? null : 'connecting');
    }
    this._later(() => {
      if (a._link !== link || b._link !== link || a._closed || b._closed || link.dead) return;
      link.up = true;
      link.everUp = true;
      this.stats.connects += 1;
      for (const pc of [a, b]) pc._setIceState('connected', 'connected');
      this._openChannels(link);
      this._flushLink(link);
    }, this.options.connectDelayMs);
  }

  _openChannels(link) {
    if (!link.up) return;
    const { a, b } = link;
    const la = parseSdp(a.currentLocalDescription.sdp);
    const lb = parseSdp(b.currentLocalDescription.sdp);
    if (!la.sections.some((s) => s.kind === 'application') || !lb.sections.some((s) => s.kind === 'application')) return;
    for (const ca of a._channels) {
      const cb = b._channels.find((c) => c.id === ca.id && c.readyState === 'connecting');
      if (ca.readyState === 'connecting' && cb) {
        ca._open();
        cb._open();
      }
    }
  }

  _partnerChannel(channel) {
    const link = channel._pc._link;
    if (!link) return null;
    const other = link.other(channel._pc);
    return other._channels.find((c) => c.id === channel.id && c.readyState !== 'closed') ?? null;
  }

  _flushLink(link) {
    for (const pc of [link.a, link.b]) for (const c of pc._channels) this._flushChannel(c);
  }

  _flushChannel(channel) {
    const link = channel._pc._link;
    if (!link || !link.up || link.dead || channel.readyState !== 'open') return;
    const target = this._partnerChannel(channel);
    if (!target) return;
    while (channel._outbox.length) {
      const { data, size } = channel._outbox.shift();
      channel.bufferedAmount -= size;
      this._later(() => {
        if (target.readyState !== 'open' || target._pc._closed) return;
        target.received += 1;
        target.bytesReceived += size;
        this.stats.messages += 1;
        target._fire('message', { data });
      });
    }
  }

  _breakLink(pc, state, onlyThisSide) {
    const link = pc._link;
    if (link) {
      link.up = false;
      link.dead = true;
      this._deadKeys.add(link.key);
    }
    pc._setIceState(state, state);
    if (!onlyThisSide && link) link.other(pc)._setIceState(state, state);
  }

  // pc closed itself: its partner notices (SCTP/DTLS close, then ICE consent fails).
  _closed(pc) {
    const link = pc._link;
    if (!link) return;
    link.up = false;
    link.dead = true;
    const other = link.other(pc);
    if (other._link !== link) return;
    this._later(() => {
      if (other._closed || other._link !== link) return;
      for (const c of other._channels) c._closeNow(true);
      other._setIceState('disconnected', 'disconnected');
      if (this.options.remoteCloseFailMs > 0)
        this._later(() => {
          if (!other._closed && other._link === link) other._setIceState('failed', 'failed');
        }, this.options.remoteCloseFailMs);
    }, this.options.remoteCloseMs);
  }
}

/** A fresh simulated network and the RTCPeerConnection class bound to it. */
export function createFakeWebRTC(options = {}) {
  const network = new FakeNetwork(options);
  return { network, RTCPeerConnection: network.peerConnectionClass(''), RTCSessionDescription: FakeRTCSessionDescription, RTCIceCandidate: FakeRTCIceCandidate };
}
