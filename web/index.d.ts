/// <reference lib="dom" />
// meshmeet — mesh video meetings whose server never carries media.
//
// The browser connects to every other participant directly (WebRTC, full
// mesh); a small signaling server creates meetings, keeps the roster and
// relays negotiation. The decisions are made by a C++ core compiled to
// WebAssembly; this API is the whole surface.
//
//   import { createMeeting, joinMeeting } from 'meshmeet';
//   const { id } = await createMeeting('https://meet.example.com', { name: 'Standup' });
//   const localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
//   const meeting = await joinMeeting({ server: 'https://meet.example.com', meeting: id, name: 'Ada', localStream });
//   meeting.on('track', ({ peer, streams }) => showVideo(peer.id, streams[0]));
//   meeting.on('peer-left', ({ peer }) => removeVideo(peer.id));

/**
 * Stable error codes. The first group comes from the signaling server
 * (docs/protocol.md); the rest from the client. A server code not listed here
 * arrives as 'server-error', with the server's own in `serverCode`.
 */
export type ErrorCode =
  | 'meeting-not-found'
  | 'meeting-full'
  | 'too-many-connections'
  | 'forbidden-origin'
  | 'rate-limited'
  | 'unauthorized'
  | 'too-large'
  | 'bad-request'
  | 'bad-json'
  | 'bad-message'
  | 'not-joined'
  | 'already-joined'
  | 'unknown-peer'
  | 'bad-resume'
  /**
   * createMeeting({ relayOnly: true }) on a server without a TURN relay
   * configured: it cannot hide the participants' IP addresses from each other.
   */
  | 'relay-unavailable'
  /** The server could not be reached (HTTP request failed, or the socket never opened). */
  | 'server-unreachable'
  /** The server answered with an error this client does not know (its code is in `serverCode`, if it sent one). */
  | 'server-error'
  /**
   * A connection to one peer could not be made even after restarts and fresh
   * connections. Once per episode: the core keeps retrying ('peer-state'
   * 'unreachable' / 'retrying'), and 'connected' follows if a retry works.
   */
  | 'peer-unreachable'
  /**
   * The verification exchange with one peer broke its commitment: the
   * connection may pass through a middleman. No code is shown for that peer.
   */
  | 'verification-failed'
  /**
   * The WebAssembly core (meshmeet-core.wasm, next to meshmeet.js) could not
   * be loaded: not served, or a Content-Security-Policy without
   * 'wasm-unsafe-eval'.
   */
  | 'core-unavailable'
  /**
   * send(): the message is over the limit of its kind (MAX_MESSAGE_BYTES
   * reliable, MAX_LOSSY_BYTES lossy, counted after UTF-8 or JSON encoding).
   */
  | 'data-too-large'
  /** send() to a peer in the meeting whose connection is not open (yet, or any more). `peer` says which. */
  | 'peer-not-connected'
  /**
   * send(): so much still waits to go to a peer (SEND_BUFFER_BYTES) that this
   * message would not fit. Nothing was sent to anyone: try again later (a
   * slow link, or a peer that stopped reading). `peer` says which.
   */
  | 'send-buffer-full'
  /**
   * replaceVideoTrack/replaceAudioTrack: a connection's sender refused the
   * new track (RTCRtpSender.replaceTrack rejected, or addTrack threw).
   */
  | 'track-not-replaced'
  /** A bad argument to this API. */
  | 'invalid-argument'
  /** Input the core could not use (a bug report is welcome). */
  | 'bad-input';

/** Every error this package throws or emits. */
export class MeshmeetError extends Error {
  readonly name: 'MeshmeetError';
  readonly code: ErrorCode;
  /** The peer the error is about, when it is about one. */
  readonly peer?: string;
  /** The HTTP status, for errors from an HTTP request. */
  readonly status?: number;
  /** For 'server-error': the code the server sent, when it is not an ErrorCode. */
  readonly serverCode?: string;
}

export interface CreatedMeeting {
  /** The meeting key: whoever holds it can join. 25–40 characters of [a-z0-9_-]. */
  id: string;
  name: string;
  /** RFC 3339 UTC. */
  createdAt: string;
  /** Path of the meeting page on the server, e.g. "/m/<id>". */
  url: string;
  /** Absolute link to share. */
  link: string;
  /** Every connection goes through the server's TURN relay (see CreateMeetingOptions.relayOnly). */
  relayOnly: boolean;
}

export interface CreateMeetingOptions {
  /** Up to 64 characters; may be empty. */
  name?: string;
  /** The operator's creation token, when the server requires one. */
  token?: string;
  /**
   * A relay-only meeting: every connection goes through the server's TURN
   * relay, so no participant learns another's IP address (at some cost in
   * latency and the operator's bandwidth). Every client then uses
   * iceTransportPolicy "relay" and sends and accepts relay candidates only.
   * A server without TURN refuses with 'relay-unavailable'. Default false.
   */
  relayOnly?: boolean;
  /** A fetch implementation (defaults to globalThis.fetch). */
  fetch?: typeof fetch;
}

/**
 * Creates a meeting. `serverUrl` is the server's base URL (http, https, ws
 * or wss). Rejects with MeshmeetError: 'rate-limited', 'unauthorized',
 * 'bad-request', 'relay-unavailable' (relayOnly asked of a server without
 * TURN), 'invalid-argument' (relayOnly not a boolean), 'forbidden-origin' (a page whose origin is not on the
 * server's --allow-origin list), 'server-unreachable', 'server-error'.
 */
export function createMeeting(serverUrl: string, options?: CreateMeetingOptions): Promise<CreatedMeeting>;

export interface MeetingInfo {
  id: string;
  name: string;
  createdAt: string;
  /** Participants in it now. */
  participants: number;
  /** Every connection goes through the server's TURN relay (false from servers that predate it). */
  relayOnly: boolean;
}

/** Looks a meeting up. Rejects with 'meeting-not-found', 'forbidden-origin', 'server-unreachable' or 'server-error'. */
export function getMeeting(serverUrl: string, meetingId: string, options?: { fetch?: typeof fetch }): Promise<MeetingInfo>;

export interface JoinOptions {
  /** The server's base URL (http, https, ws or wss). */
  server: string;
  /** The meeting id. */
  meeting: string;
  /** Your name as the others see it (up to 64 characters). */
  name?: string;
  /** Camera and/or microphone to send; omit to join receive-only. */
  localStream?: MediaStream | null;
  /**
   * STUN/TURN servers; by default, the ones the server hands out (in
   * `welcome`, and refreshed with fresh TURN credentials before they expire:
   * live connections get them with setConfiguration). When given, these are
   * used throughout and the server's are ignored.
   */
  iceServers?: RTCIceServer[];
  /** Upload budget in kbit/s shared by the video copies sent to each peer (default 2500). */
  uplinkKbps?: number;
  /** An RTCPeerConnection implementation, e.g. from `@roamhq/wrtc` in Node. Default: the global one. */
  RTCPeerConnection?: typeof RTCPeerConnection;
  /** A WebSocket implementation, e.g. from `ws` in Node. Default: the global one. */
  WebSocket?: typeof WebSocket;
  /** A fetch implementation for the meeting lookup made while joining (defaults to globalThis.fetch). */
  fetch?: typeof fetch;
  /**
   * Node only: the Origin to present, e.g. 'https://meet.example.com'. Sent
   * with the meeting lookup and, as the `ws` package's `origin` option, with
   * the WebSocket. Browsers always send the page's own origin.
   */
  origin?: string;
  /** Receives every state transition of the core (debug logging). */
  logger?: (entry: LogEntry) => void;
  /** Give up with 'server-unreachable' when not welcomed within this many ms of the call (default 15000). */
  joinTimeoutMs?: number;
  /**
   * Aborts the join, as for fetch: joinMeeting rejects with the signal's
   * reason (an 'AbortError' DOMException by default) and leaves nothing
   * behind. No effect once joined (call leave()).
   */
  signal?: AbortSignal;
  /** Seed for the jitter of reconnects and restarts (default: random). */
  seed?: number;
  /**
   * Advanced tuning of the core (timings in milliseconds). A key it does not
   * know is a type error here and 'invalid-argument' at run time.
   */
  coreOptions?: CoreOptions;
}

/**
 * Advanced tuning of the core. The defaults suit browsers on real networks;
 * tests shorten them. Each is a non-negative integer. The options joinMeeting
 * has itself (seed, uplinkKbps, iceServers, a logger) are refused here, and
 * the verification code's entropy is always fresh and cannot be set.
 */
export interface CoreOptions {
  /** Reconnect backoff to the signaling server: full jitter up to base·2^attempt (default 500)… */
  reconnectBaseMs?: number;
  /** …capped here (default 10000). */
  reconnectCapMs?: number;
  /** A socket that has not opened, or a join not welcomed, within this is given up (default 10000). Also bounds leave() while reconnecting. */
  connectTimeoutMs?: number;
  /** A connection not up yet is rebuilt after this long without progress (default 30000). */
  connectWatchdogMs?: number;
  /** A connection not up after this long is rebuilt whatever its progress (default 120000). */
  connectHardCapMs?: number;
  /** Backoff of an unreachable peer's retries: half of base·2^n plus a random half (default 5000)… */
  unreachableRetryBaseMs?: number;
  /** …capped here (default 60000). */
  unreachableRetryCapMs?: number;
  /** A renegotiation offer without an answer is rolled back and made again after this (default 8000). */
  answerTimeoutMs?: number;
  /** How long a disconnected connection may recover by itself before an ICE restart (default 5000). */
  iceDisconnectedGraceMs?: number;
  /** ICE restarts of one connection before a fresh connection (default 3). */
  iceRestartAttempts?: number;
  /** ICE restart backoff: uniform up to base·2^attempt (default 1000). */
  iceRestartBaseMs?: number;
  /** An ICE restart not up within this is tried again (default 10000). */
  iceRestartTimeoutMs?: number;
  /** Fresh connections in a row before a peer is shown unreachable (default 3). */
  maxFreshConnections?: number;
  /** How often each connection's statistics are read for 'quality' (default 3000). */
  statsIntervalMs?: number;
  /** The audio bitrate the uplink budget sets aside per peer, kbit/s (default 40). */
  audioKbps?: number;
  /** A refused setParameters of the uplink budget is tried again after this (default 1000)… */
  senderParametersRetryMs?: number;
  /** …this many times in a row (default 4). */
  senderParametersAttempts?: number;
  /**
   * A change to a video sender's limits (a peer joined or left, a tile
   * resized or hidden) waits this long for the rest of its burst, so that
   * they reach the browser as one setParameters (default 300). Video turned
   * back on for a peer that shows it again goes at once.
   */
  senderParametersGatherMs?: number;
  /**
   * A new connection's video sender gets its first limits once the
   * connection is up and the peer has said how large it shows our video (it
   * says so just after); this long after the connection is up if it has not
   * (default 600).
   */
  senderFirstViewWaitMs?: number;
  /**
   * After a resume, how long a peer missing from the server's roster is kept,
   * its connection up, for it to come back under the same id (a server that
   * restarted lists only those already back), when the server does not say:
   * a server that does (its welcome's resumeGrace, from --resume-grace) is
   * followed. Default 15000, older servers' default --resume-grace.
   */
  peerReturnGraceMs?: number;
  /**
   * Refused a seat after being in the meeting (it filled up while you were
   * away, e.g. across a server restart): how long the join is tried again,
   * your calls going on, before the meeting fails with 'meeting-full'
   * (default 30000). Meanwhile an 'error' with code 'meeting-full' says so.
   */
  seatWaitMs?: number;
}

/**
 * Joins a meeting and resolves once the server has welcomed you (peers
 * connect in the background; watch 'peer-state' and 'track'). When it
 * resolves, `meeting.peers` holds everyone already there, and nothing is
 * missed: listeners added in the same tick (right after `await
 * joinMeeting(...)`, before any other await) first get the events emitted
 * while joining, in order — the 'state' changes, 'welcomed', and a
 * 'peer-joined' for each peer already in the meeting. Rejects with
 * MeshmeetError: 'meeting-not-found', 'meeting-full', 'too-many-connections',
 * 'forbidden-origin', 'server-unreachable', 'core-unavailable', 'invalid-argument'.
 *
 * The meeting is looked up over HTTP (GET /api/meetings/<id>) while the
 * WebSocket opens, not before it, so a join does not wait for that round
 * trip. An unknown meeting is refused at once, and so is an origin the
 * server does not accept (its CORS answer tells: the API and the WebSocket
 * share one allow-list). A same-origin page cannot be judged that way: when its
 * WebSocket closes before it opened while the server still answers HTTP (and
 * /healthz says it is serving, not shutting down), the join rejects at once
 * with 'forbidden-origin'. A server that does not answer, or is shutting
 * down, runs into joinTimeoutMs ('server-unreachable'), counted from the call.
 */
export function joinMeeting(options: JoinOptions): Promise<Meeting>;

/**
 * Loads the WebAssembly core now, so that a later joinMeeting starts at once
 * (call it while the person types their name), and runs the first steps of a
 * join once on a client it throws away, so that the browser has compiled
 * them before the join needs them. Optional: joinMeeting loads the core
 * itself. Rejects with 'core-unavailable'.
 */
export function preload(): Promise<void>;

export interface Peer {
  id: string;
  name: string;
}

/**
 * The meeting as this participant sees it:
 * idle → connecting → joining → joined ⇄ reconnecting → left | failed.
 * While 'reconnecting', media between peers keeps flowing. 'failed' during a
 * meeting: after a reconnect the server would not take you back, the
 * meeting being gone, or full for longer than coreOptions.seatWaitMs (an
 * 'error' with 'meeting-full' comes at each refusal, the state staying
 * 'reconnecting' and the calls going on while it waits for a seat); an
 * 'error' with 'meeting-not-found' or 'meeting-full' says which, just
 * before. Every peer connection is
 * closed then; stopping your own tracks is up to you. 'leaving': leave()
 * was called while signaling was away; every peer connection is closed, and
 * a socket opens to tell the server (so the others see you leave at once,
 * not after the resume grace), then 'left'.
 */
export type MeetingState = 'idle' | 'connecting' | 'joining' | 'joined' | 'reconnecting' | 'leaving' | 'left' | 'failed';

/**
 * Why a peer left: from the server, or 'gone' (left while we were away),
 * 'rejoined' (we rejoined under a new id and the connection to it could not
 * be kept: it is rebuilt, and the peer appears again with 'peer-joined').
 */
export type LeaveReason = 'left' | 'disconnected' | 'timeout' | 'removed' | 'gone' | 'rejoined';

/**
 * The connection to one peer (the core's PeerState, wasm/core/connection_recovery.hpp).
 * 'connecting' lasts as long as the negotiation makes progress (a slow
 * browser is given time). 'unreachable': ICE failed through everything
 * tried (restarts, fresh connections); no connection is held, and a retry
 * follows after a jittered backoff of at most a minute, at once when the
 * network changes, fresh ICE servers arrive or signaling comes back.
 * 'retrying': unreachable, and a fresh connection is being tried. Show both
 * as "Can't reach NAME — retrying"; 'connected' follows when a retry works.
 */
export type PeerState =
  | 'connecting'
  | 'connected'
  | 'disconnected'
  | 'restart-pending'
  | 'restarting'
  | 'awaiting-signaling'
  | 'unreachable'
  | 'retrying'
  | 'closed';

export type QualityLevel = 'good' | 'fair' | 'poor';
/** Whether the person vouched for a peer's verification code (Meeting.markVerified). */
export type VerificationTrust = 'unverified' | 'verified' | 'changed';

/** Meeting.peerStatus(): one peer's state now. */
export interface PeerStatus {
  peer: Peer;
  /** The connection ('peer-state'). */
  state: PeerState;
  /** What the peer says it sends ('peer-media'); false until it said. */
  audio: boolean;
  video: boolean;
  screen: boolean;
  /** The last 'quality' level; null until measured. */
  quality: QualityLevel | null;
  /** The code to read aloud ('verification-code'); null until both ends derived it. */
  verificationCode: string | null;
  trust: VerificationTrust;
}

/** What send() sends and a 'data' event carries. */
export type AppData = string | ArrayBuffer | ArrayBufferView | JsonValue;
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface SendOptions {
  /** One peer id or several; default: everyone connected. */
  to?: string | string[];
  /** Reliable and ordered (default true), or unordered and lossy. */
  reliable?: boolean;
}

/** The largest reliable message send() takes: 8 MiB. */
export const MAX_MESSAGE_BYTES: number;
/** The largest lossy message send() takes: 64 KiB less 2 bytes (one chunk). */
export const MAX_LOSSY_BYTES: number;

export interface LogEntry {
  level: 'debug' | 'info' | 'warn';
  machine: string;
  subject: string;
  from: string;
  to: string;
  detail: string;
}

export interface MeetingEvents {
  /** The meeting's state changed (see MeetingState); `attempt` counts reconnects since the last welcome. */
  state: { state: MeetingState; attempt: number };
  /** You are in: after the first join, after a resume ('resumed') or after a fresh rejoin ('rejoined'). */
  welcomed: { self: string; how: 'fresh' | 'resumed' | 'rejoined'; relayOnly: boolean };
  /** Someone is in the meeting: a newcomer, or (replayed right after joining) one already there. */
  'peer-joined': Peer;
  /** Someone is gone (see LeaveReason); their connection is closed. */
  'peer-left': { peer: Peer; reason: LeaveReason };
  /** The connection to a peer changed state (see PeerState); peerStatus() says where it stands now. */
  'peer-state': { peer: Peer; state: PeerState };
  /** A remote track arrived (again after a fresh connection). */
  track: { peer: Peer; track: MediaStreamTrack; streams: MediaStream[]; kind: 'audio' | 'video' };
  /**
   * The peer's microphone and video as it sends them: live (a track of that
   * kind, not turned off with setMicrophone/setCamera) or not, and whether
   * its video is a shared screen (show it whole) rather than a camera. Sent
   * over the data channel on every change and each time a connection to the
   * peer opens.
   */
  'peer-media': { peer: Peer; audio: boolean; video: boolean; screen: boolean };
  /**
   * Every few seconds per connected peer. `rttMs` is null until a round trip
   * has been measured; the level then rests on packet loss alone.
   * 'poor' also when no media arrived
   * for 2 s while the peer says it sends (a frozen picture). `loss` is the
   * worse of what we lost of theirs and what they report losing of ours
   * (remote-inbound-rtp), 0..1.
   */
  quality: { peer: Peer; level: QualityLevel; rttMs: number | null; loss: number; kbpsIn: number; kbpsOut: number };
  /**
   * A short code derived from both ends' DTLS certificate fingerprints
   * (every fingerprint line of both descriptions) and nonces exchanged over
   * the connection itself. Read it aloud: if the other side sees a different
   * code, someone sits in the middle of the connection. `trust` says whether
   * the person vouched for it (markVerified): 'changed' means they had, and
   * this is another code; show it loudly and have them compare again.
   * A description whose fingerprints contradict each other is refused with
   * an 'error' event 'verification-failed' for the peer instead.
   */
  'verification-code': { peer: Peer; code: string; trust: VerificationTrust };
  /**
   * App data a peer sent with send(): a string, a JSON value, or an
   * ArrayBuffer (whatever view was sent). `reliable`: which channel it came
   * over. Data from a peer that is not a well-formed message (a broken or
   * hostile client) is dropped, with a warning to the logger.
   */
  data: { from: Peer; data: string | ArrayBuffer | JsonValue; reliable: boolean };
  /** Something failed that no promise reports (see ErrorCode); `peer` when it is about one peer. */
  error: MeshmeetError;
}

export class Meeting {
  /** Meetings come from joinMeeting(); `new Meeting()` throws a TypeError. */
  private constructor();
  /** The meeting id. */
  readonly id: string;
  /** The meeting's name (may be empty). */
  readonly name: string;
  /** You, as the others see you. */
  readonly self: Peer;
  readonly state: MeetingState;
  /** Your microphone switch (setMicrophone): true until turned off, whether or not an audio track is sent. */
  readonly microphoneOn: boolean;
  /** Your camera switch (setCamera): true until turned off, whether or not a video track is sent. */
  readonly cameraOn: boolean;
  /** Everyone else in the meeting now, by id. */
  readonly peers: ReadonlyMap<string, Peer>;
  /**
   * A relay-only meeting (from the server's welcome): every connection goes
   * through TURN, and this client sends and accepts relay candidates only,
   * so no participant learns another's IP address. Once true, stays true.
   */
  readonly relayOnly: boolean;

  /**
   * Subscribes; returns a function that unsubscribes. Subscribed in the tick
   * joinMeeting resolves in, the listener first gets (in a microtask) the
   * events of its type emitted while joining.
   */
  on<K extends keyof MeetingEvents>(type: K, listener: (event: MeetingEvents[K]) => void): () => void;
  off<K extends keyof MeetingEvents>(type: K, listener: (event: MeetingEvents[K]) => void): void;

  /**
   * Leaves: the others see you go at once, also when called while
   * reconnecting (a socket opens to tell the server). Resolves once the
   * server has been told, or could not be within the connect timeout; then
   * everything is closed.
   */
  leave(): Promise<void>;
  /** Turns your microphone on or off (the track stays, muted); the others get 'peer-media'. */
  setMicrophone(on: boolean): void;
  /**
   * Turns your camera on or off (the track stays, disabled); the others get
   * 'peer-media'. The camera only: while a shared screen is sent (a track
   * from getDisplayMedia, whose getSettings() names a displaySurface) the
   * screen keeps going and the others keep seeing it; the camera, sent again
   * when sharing stops, is on or off as this last left it.
   */
  setCamera(on: boolean): void;
  /**
   * Sends another video track instead (screen share; the camera again to
   * stop sharing); null stops sending video. Resolves once every open
   * connection's sender carries it (connections made later start with it).
   * Rejects with 'track-not-replaced' if a sender refused it (every sender
   * is then back on the previous track: all or nothing),
   * 'invalid-argument' for a track of another kind, 'not-joined' after leave().
   */
  replaceVideoTrack(track: MediaStreamTrack | null): Promise<void>;
  /** As replaceVideoTrack, for audio (a different microphone); null stops sending audio. */
  replaceAudioTrack(track: MediaStreamTrack | null): Promise<void>;
  /**
   * One peer's state now (undefined for an id not in the meeting): what the
   * 'peer-state', 'peer-media', 'quality' and 'verification-code' events
   * said last, for an app that renders from state or subscribed late.
   */
  peerStatus(peerId: string): PeerStatus | undefined;
  /**
   * Sends app data peer to peer (the server never sees it): to everyone
   * connected now, or to the peer ids in `options.to`. The others get a
   * 'data' event. Strings arrive as strings, ArrayBuffers and typed arrays
   * as ArrayBuffers, anything else as what JSON makes of it.
   *
   * Reliable (the default): delivered whole and in order over each
   * connection, up to MAX_MESSAGE_BYTES (larger messages are cut into
   * chunks and put back together). `reliable: false`: unordered and never
   * retransmitted, for state that the next message supersedes (cursors, game
   * state), up to MAX_LOSSY_BYTES.
   *
   * Resolves once the message is handed to every connection it goes to
   * (not when it arrived). A connection that is being rebuilt drops what it
   * had not delivered yet; sent to everyone, peers not connected at that
   * moment do not get it. A peer whose 'peer-state' just became 'connected'
   * counts as connected: send() waits the moment its channels take to open.
   * Rejects, having sent nothing to anyone, with
   * MeshmeetError: 'not-joined', 'invalid-argument' (data that cannot be
   * sent, e.g. a Blob or a cyclic object), 'data-too-large', 'unknown-peer'
   * (an id in `to` not in the meeting), 'peer-not-connected' (an id in `to`
   * without an open connection), 'send-buffer-full' (back-pressure).
   */
  send(data: AppData, options?: SendOptions): Promise<void>;
  /**
   * The person read the verification code aloud with this peer and it
   * matched. The next 'verification-code' event for the peer has `trust`
   * 'verified'. If a later connection shows another code (a fresh
   * connection, or a middleman), `trust` is 'changed' until this is called
   * again for the new code. Returns false when no code is shown for the
   * peer yet (or there is no such peer).
   */
  markVerified(peerId: string): boolean;
  /** Changes the uplink budget (kbit/s); applies at once to every video sender. */
  setUplinkBudget(kbps: number): void;
  /**
   * Tells the mesh that `element` (usually the <video> of the peer's tile)
   * shows `peerId`'s video. That peer then sends a picture no larger than
   * the element draws it (its height in device pixels; for `object-fit:
   * cover` the height that covers the box), and no video at all while the
   * element is off-screen or the tab is hidden: less CPU at both ends and
   * less uplink for the sender. Shown again, the video is back at the right
   * size within about a second. Returns a function that stops watching; a
   * peer that no element shows any more is sent no video. Peers never
   * observed are sent what the uplink budget affords. Throws
   * `invalid-argument` without a peer id or an element.
   */
  observeVideo(peerId: string, element: Element): () => void;
  /** The live remote tracks of one peer. */
  remoteTracks(peerId: string): MediaStreamTrack[];
  /**
   * How loud a peer is right now, 0 (silence) to 1 (full scale), read from
   * the audio level its packets carry (RTCRtpReceiver
   * getSynchronizationSources(): no audio processing on this side, so cheap
   * enough to poll a few times a second for a "who is speaking" mark). 0
   * when no audio has arrived, for a peer that says its microphone is off,
   * and for a peer whose connection is not up.
   */
  audioLevel(peerId: string): number;
  /** Closes everything without telling the server; prefer leave(). Idempotent. */
  dispose(): void;
}

/** How many C++ client objects are alive (for leak checks in tests). */
export function liveCoreObjects(): Promise<number>;
