// The browser objects one Meeting's core drives, and the executor of the
// core's outputs on them. The core names sockets, peer connections and
// timers by integer handles; here each handle maps to its WebSocket,
// RTCPeerConnection (with the core's data channel and app data's two) or
// timeout, every browser event on one is fed back to the core as an input,
// and every output that acts on one (open-socket, create-peer-connection,
// set-local-description, get-stats, start-timer, ...) is carried out.
//
// A module of its own because it is where the browser's WebRTC API meets
// the core's outputs: wasm/README.md's list of outputs and inputs is its
// contract. Meeting (meeting-api.js) owns the core object and the loop, and
// handles the outputs meant for the app (its events); this class knows the
// core only through the `input` callback it is given.

import { AppDataReader, openAppChannels } from './app-data.js';

export class BrowserObjects {
  /**
   * `input(fn)` calls fn(client, nowMs) on the live core and carries out
   * what it then asks for (Meeting._input); `onAppData(peerId, data,
   * reliable)` gets each app data message read; `onSocketRefused()` is told
   * of a socket that closed before it ever opened.
   */
  constructor({ WebSocket, RTCPeerConnection, origin, localStream, logger, input, onAppData, onSocketRefused }) {
    this._WebSocket = WebSocket;
    this._RTCPeerConnection = RTCPeerConnection;
    this._origin = origin;          // Node only: the Origin the WebSocket presents
    this._localStream = localStream;
    this._logger = logger;
    this._input = input;
    this._onAppData = onAppData;
    this._onSocketRefused = onSocketRefused;
    this._localTracks = new Map();  // track id → MediaStreamTrack
    this._screens = new Set();      // ids of the screen-capture tracks given (set-track-enabled leaves them alone)
    this._sockets = new Map();      // socket handle → WebSocket
    this._pcs = new Map();          // pc handle → { pc, channel, app, senders: {audio, video}, peer, ... }
    this._timers = new Map();       // timer handle → timeout id
    this._remoteTracks = new Map(); // `${pc}/${track id}` → { track, streams }
    this._trackOps = null;          // while a replace*Track call runs: what its outputs started
  }

  // ---- what Meeting asks of them ------------------------------------------

  /** A local track the core may now name in add-track and replace-track. */
  holdLocalTrack(track, screen) {
    if (screen) this._screens.add(track.id);
    this._localTracks.set(track.id, track);
  }

  // Runs `change` (a call into the core) and returns the sender operations
  // its outputs started: replaceTrack's promises, and a rejected one for an
  // add-track or replace-track that threw (see Meeting._replaceTrack).
  trackOperations(change) {
    const started = [];
    this._trackOps = started;
    try {
      change();
    } finally {
      this._trackOps = null;
    }
    return started;
  }

  /** Peer id → its open app data channel of that kind. */
  appChannelsByPeer(reliable) {
    const open = new Map();
    for (const entry of this._pcs.values()) {
      const channel = reliable ? entry.app.reliable : entry.app.lossy;
      if (channel.readyState === 'open') open.set(entry.peer, channel);
    }
    return open;
  }

  /**
   * Resolves once the app channel (reliable or lossy) of each of `peerIds`
   * (peers the core says are connected) that is still opening has opened or
   * closed, or after `ms`: the channels open a moment after the core reports
   * a peer connected (ICE is up; DTLS, then SCTP, follow).
   */
  appChannelsOpening(reliable, peerIds, ms) {
    const opening = [];
    for (const entry of this._pcs.values()) {
      const channel = reliable ? entry.app.reliable : entry.app.lossy;
      if (peerIds.includes(entry.peer) && channel.readyState === 'connecting') opening.push(channel);
    }
    if (opening.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const settled = new Set();
      const finish = () => {
        clearTimeout(timer);
        for (const channel of opening) for (const type of ['open', 'close']) channel.removeEventListener(type, listeners.get(channel));
        resolve();
      };
      const timer = setTimeout(finish, ms);
      const listeners = new Map(opening.map((channel) => [channel, () => {
        settled.add(channel);
        if (settled.size === opening.length) finish();
      }]));
      for (const channel of opening) for (const type of ['open', 'close']) channel.addEventListener(type, listeners.get(channel));
    });
  }

  /** The remote track a core 'track' output names: { track, streams }, or undefined. */
  remoteTrack(pcHandle, trackId) {
    return this._remoteTracks.get(`${pcHandle}/${trackId}`);
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

  // Everything closed and dropped, nothing reported (Meeting.dispose).
  closeAll() {
    for (const id of this._timers.values()) clearTimeout(id);
    this._timers.clear();
    for (const ws of this._sockets.values()) this._closeSocket(ws, 1000, 'dispose');
    this._sockets.clear();
    for (const entry of this._pcs.values()) this._closePc(entry);
    this._pcs.clear();
    this._remoteTracks.clear();
  }

  // ---- the core's outputs, carried out ------------------------------------

  // Every output but the app's events (Meeting takes those and hands on the rest).
  carryOut(o) {
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
      default:
        this._logger?.({ level: 'warn', machine: 'shim', detail: `unknown output ${o.type}` });
    }
  }

  // Each output is carried out on its own: one that throws (new
  // RTCPeerConnection with a turn: URL it refuses, a call on an object in
  // the wrong state) must not cost the rest of its batch. The core hears of
  // it as of any failure, so that its recovery takes over; the rest is logged.
  outputFailed(o, e) {
    const name = e?.name ?? 'Error';
    const message = e?.message ?? String(e);
    this._logger?.({ level: 'warn', machine: 'shim', subject: o.pc !== undefined ? String(o.pc) : '', from: '', to: '', detail: `${o.type} threw ${name}: ${message}` });
    if (this._trackOps && (o.type === 'add-track' || o.type === 'replace-track')) this._trackOps.push(Promise.reject(e));
    if (o.type === 'create-peer-connection') this._input((c, t) => c.createPeerConnectionFailed(t, o.pc, name, message));
    else if (typeof o.op === 'number') this._input((c, t) => c.operationFailed(t, o.pc, o.op, name, message));
    // Those of the app's events are a listener's own: Meeting._emit already keeps them apart.
  }

  // Muting reaches every track of the kind given so far, so that none is
  // sent on unnoticed; the camera's off never reaches a shared screen.
  _enableTracks(kind, enabled) {
    for (const track of this._localTracks.values()) if (track.kind === kind && !this._screens.has(track.id)) track.enabled = enabled;
  }

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
    // certificate: 'unread' until the certificate DTLS authenticated reached
    // the core ('read'), or 'untold' where the browser never tells; see
    // _readRemoteCertificate.
    const entry = { pc, channel, app, senders: { audio: null, video: null }, peer: o.peer, handle: o.pc, iceRestartFrom: null, iceRestartAsked: false, certificate: 'unread', certificateTransport: null };
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
      // The channel runs over DTLS, so the transport is up by now.
      this._readRemoteCertificate(entry);
    };
    channel.onclose = () => feed((c, t) => c.dataChannelClosed(t, o.pc));
    channel.onmessage = (e) => typeof e.data === 'string' && feed((c, t) => c.dataChannelMessage(t, o.pc, e.data));
    for (const reliable of [true, false]) {
      const reader = new AppDataReader();
      (reliable ? app.reliable : app.lossy).onmessage = (e) => {
        if (!live()) return;
        const read = reader.push(e.data);
        if (read?.problem) this._logger?.({ level: 'warn', machine: 'shim', subject: entry.peer, from: '', to: '', detail: `app data dropped: ${read.problem}` });
        else if (read) this._onAppData(entry.peer, read.data, reliable);
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
    if (o.maxFramerate > 0) params.encodings[0].maxFramerate = o.maxFramerate;  // a screen, a camera copy by its size, the last CPU step
    else delete params.encodings[0].maxFramerate;
    if (o.kind === 'video') params.encodings[0].active = o.active !== false;  // false: the peer draws none of it
    return sender.setParameters(params);  // at once: getParameters' result is only good until the task ends
  }

  // Tells the core which certificate DTLS authenticated, once. Tried when the
  // channel opens, when the transport's state changes, and at every stats
  // round until it succeeds: Chrome can report the transport "connected" a
  // moment before getRemoteCertificates() has the certificate, and no event
  // follows that moment.
  _readRemoteCertificate(entry) {
    if (entry.certificate !== 'unread' || entry.channel.readyState !== 'open') return;
    const transport = dtlsTransport(entry.pc);
    if (!transport) {
      entry.certificate = 'untold';  // this browser never tells
      return;
    }
    const live = () => this._pcs.get(entry.handle) === entry;
    if (entry.certificateTransport !== transport) {
      entry.certificateTransport = transport;
      transport.addEventListener('statechange', () => live() && this._readRemoteCertificate(entry));
    }
    entry.certificate = 'reading';
    certificateFingerprint(transport).then((fp) => {
      if (!live()) return;
      entry.certificate = fp ? 'read' : 'unread';
      if (fp) this._input((c, t) => c.remoteCertificate(t, entry.handle, fp));
    });
  }

  _getStats(handle) {
    const entry = this._pcs.get(handle);
    if (!entry) return;
    this._readRemoteCertificate(entry);
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
        let cpuLimited = false;  // an encoder of ours falls behind for want of CPU
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
            if (s.kind === 'video' && s.qualityLimitationReason === 'cpu') cpuLimited = true;
          }
          if (s.type === 'remote-inbound-rtp') remoteLost += Math.max(0, s.packetsLost ?? 0);
          if (s.type === 'data-channel') {
            bytesIn += s.bytesReceived ?? 0;
            bytesOut += s.bytesSent ?? 0;
          }
        });
        this._input((c, t) => c.stats(t, handle, rtt, lost, received, bytesIn, bytesOut, remoteLost, sent, cpuLimited));
      })
      .catch(() => {});
  }
}

function iceUfrag(sdp) {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp ?? '')?.[1] ?? '';
}

// The DTLS transport of `pc`, whose certificate the core checks against the
// fingerprints the peer's description named (the verification code rests on
// them); null where the browser never tells (getRemoteCertificates is Chrome's).
function dtlsTransport(pc) {
  // Only where the platform has DTLS transports of its own (browsers): in
  // Node, merely reading node-webrtc's pc.sctp.transport makes the process
  // crash as it exits.
  if (typeof globalThis.RTCDtlsTransport !== 'function' || !globalThis.crypto?.subtle) return null;
  try {
    const transport = pc.sctp?.transport ?? pc.getReceivers?.()[0]?.transport;
    return transport?.getRemoteCertificates ? transport : null;
  } catch {
    return null;
  }
}

// A promise of the SHA-256 fingerprint ("sha-256 AB:…") of the certificate
// `transport` authenticated, or of '' while the browser does not have it yet.
function certificateFingerprint(transport) {
  const der = transport.getRemoteCertificates()?.[0];
  if (!der) return Promise.resolve('');
  return globalThis.crypto.subtle.digest('SHA-256', der).then((d) => {
    const digest = new Uint8Array(d);
    return `sha-256 ${Array.from(digest, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':')}`;
  }, () => '');
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
