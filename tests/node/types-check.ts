// Compile-only check of the package's public types (dist/index.d.ts): every
// exported function, class and event type is used the way an app would, and
// a few misuses must be rejected (@ts-expect-error fails the build if the
// line compiles, so `any` leaking into the API is caught).
//
//   node_modules/.bin/tsc --noEmit -p tests/node/tsconfig.json
//
// Never run: it only has to type-check.

import {
  createMeeting,
  getMeeting,
  joinMeeting,
  liveCoreObjects,
  MAX_LOSSY_BYTES,
  MAX_MESSAGE_BYTES,
  Meeting,
  preload,
  MeshmeetError,
  type AppData,
  type CreatedMeeting,
  type CreateMeetingOptions,
  type ErrorCode,
  type JoinOptions,
  type LeaveReason,
  type LogEntry,
  type MeetingEvents,
  type MeetingInfo,
  type MeetingState,
  type Peer,
  type PeerState,
  type PeerStatus,
  type QualityLevel,
  type SendOptions,
  type VerificationTrust,
} from '../../dist/index.js';

declare const stream: MediaStream;
declare const screenTrack: MediaStreamTrack;
declare const SomePeerConnection: typeof RTCPeerConnection;
declare const SomeWebSocket: typeof WebSocket;

async function app(): Promise<void> {
  // createMeeting / getMeeting
  const createOptions: CreateMeetingOptions = { name: 'Standup', token: 'secret', fetch: globalThis.fetch };
  const created: CreatedMeeting = await createMeeting('https://meet.example.com', createOptions);
  const id: string = created.id;
  const link: string = created.link;
  const url: string = created.url;
  const createdAt: string = created.createdAt;
  await createMeeting('https://meet.example.com');
  const relayed: CreatedMeeting = await createMeeting('https://meet.example.com', { relayOnly: true });
  const relayedToo: boolean = relayed.relayOnly;
  const info: MeetingInfo = await getMeeting('https://meet.example.com', id, { fetch });
  const participants: number = info.participants;
  const infoRelayOnly: boolean = info.relayOnly;
  const refused: ErrorCode = 'relay-unavailable';
  void [relayedToo, infoRelayOnly, refused];

  const ready: Promise<void> = preload();
  await ready;

  // joinMeeting with every option
  const log = (entry: LogEntry): void => {
    const level: 'debug' | 'info' | 'warn' = entry.level;
    const text: string = `${entry.machine} ${entry.subject} ${entry.from}→${entry.to} ${entry.detail} ${level}`;
    void text;
  };
  const options: JoinOptions = {
    server: 'https://meet.example.com',
    meeting: id,
    name: 'Ada',
    localStream: stream,
    iceServers: [{ urls: 'stun:stun.example.com' }],
    uplinkKbps: 1500,
    RTCPeerConnection: SomePeerConnection,
    WebSocket: SomeWebSocket,
    logger: log,
    fetch: globalThis.fetch,
    origin: 'https://meet.example.com',
    seed: 42,
    signal: AbortSignal.timeout(5000),
    coreOptions: { iceDisconnectedGraceMs: 200, reconnectBaseMs: 50 },
  };
  await joinMeeting({ server: 'wss://meet.example.com', meeting: id, localStream: null });
  const meeting: Meeting = await joinMeeting(options);

  // read-only state
  const self: Peer = meeting.self;
  const state: MeetingState = meeting.state;
  const peers: ReadonlyMap<string, Peer> = meeting.peers;
  const mic: boolean = meeting.microphoneOn;
  const cam: boolean = meeting.cameraOn;
  const meetingId: string = meeting.id;
  const meetingName: string = meeting.name;
  const relayOnly: boolean = meeting.relayOnly;
  void relayOnly;
  void [self, state, peers, mic, cam, meetingId, meetingName, link, url, createdAt, participants];

  // every event, with its payload type
  const offState = meeting.on('state', (e) => {
    const s: MeetingState = e.state;
    const attempt: number = e.attempt;
    void [s, attempt];
  });
  offState();
  meeting.on('welcomed', (e) => {
    const how: 'fresh' | 'resumed' | 'rejoined' = e.how;
    const me: string = e.self;
    const relayedMeeting: boolean = e.relayOnly;
    void [how, me, relayedMeeting];
  });
  meeting.on('peer-joined', (p) => {
    const pid: string = p.id;
    const pname: string = p.name;
    void [pid, pname];
  });
  meeting.on('peer-left', (e) => {
    const reason: LeaveReason = e.reason;
    const who: Peer = e.peer;
    void [reason, who];
  });
  meeting.on('peer-state', (e) => {
    const s: PeerState = e.state;
    void s;
  });
  meeting.on('track', (e) => {
    const t: MediaStreamTrack = e.track;
    const s: MediaStream[] = e.streams;
    const kind: 'audio' | 'video' = e.kind;
    void [t, s, kind, e.peer.id];
  });
  meeting.on('peer-media', (e) => {
    const live: boolean[] = [e.audio, e.video, e.screen];
    void [live, e.peer.id];
  });
  meeting.on('quality', (e) => {
    const level: QualityLevel = e.level;
    const rtt: number | null = e.rttMs;  // null until a round trip is measured
    const numbers: number[] = [e.loss, e.kbpsIn, e.kbpsOut];
    void [level, rtt, numbers, e.peer];
  });
  meeting.on('verification-code', (e) => {
    const code: string = e.code;
    const trust: VerificationTrust = e.trust;
    if (trust === 'changed') void meeting.markVerified(e.peer.id);
    void [code, e.peer];
  });
  meeting.on('data', (e) => {
    const from: Peer = e.from;
    const reliable: boolean = e.reliable;
    if (e.data instanceof ArrayBuffer) void new Uint8Array(e.data);
    else if (typeof e.data === 'string') void e.data.length;
    void [from, reliable];
  });
  const status: PeerStatus | undefined = meeting.peerStatus('peer-id');
  if (status) {
    const connection: PeerState = status.state;
    const media: boolean[] = [status.audio, status.video, status.screen];
    const level: QualityLevel | null = status.quality;
    const digits: string | null = status.verificationCode;
    const vouched: VerificationTrust = status.trust;
    void [connection, media, level, digits, vouched, status.peer.name];
  }
  const notReplaced: ErrorCode = 'track-not-replaced';
  void notReplaced;
  const marked: boolean = meeting.markVerified('peer-id');
  // @ts-expect-error a peer id, not a Peer
  meeting.markVerified({ id: 'peer-id' });
  void marked;
  const onError = (e: MeshmeetError): void => {
    const code: ErrorCode = e.code;
    const peer: string | undefined = e.peer;
    const status: number | undefined = e.status;
    const name: 'MeshmeetError' = e.name;
    const asError: Error = e;
    void [code, peer, status, name, asError];
  };
  meeting.on('error', onError);
  meeting.off('error', onError);

  // every method
  meeting.setMicrophone(false);
  meeting.setCamera(true);
  await meeting.replaceVideoTrack(screenTrack);
  await meeting.replaceVideoTrack(null);
  await meeting.replaceAudioTrack(null);
  const sent: Promise<void> = meeting.send({ cursor: [3, 4] }, { reliable: false });
  await sent;
  await meeting.send('hello', { to: 'peer-id' });
  await meeting.send(new Uint8Array([1, 2, 3]), { to: ['a', 'b'] });
  const payload: AppData = new ArrayBuffer(MAX_LOSSY_BYTES < MAX_MESSAGE_BYTES ? 8 : 0);
  const sendOptions: SendOptions = { reliable: true };
  await meeting.send(payload, sendOptions);
  // @ts-expect-error a function is not app data
  await meeting.send(() => 1);
  // @ts-expect-error `to` is peer ids, not Peers
  await meeting.send('x', { to: { id: 'a' } });
  meeting.setUplinkBudget(800);
  const tracks: MediaStreamTrack[] = meeting.remoteTracks('peer-id');
  const loudness: number = meeting.audioLevel('peer-id');
  void tracks;
  void loudness;
  await meeting.leave();
  meeting.dispose();

  const live: number = await liveCoreObjects();
  void live;

  // errors are narrowable by class and code
  try {
    await joinMeeting(options);
  } catch (e) {
    if (e instanceof MeshmeetError && e.code === 'meeting-full') return;
    if (e instanceof MeshmeetError && e.code === 'server-error') {
      const serverCode: string | undefined = e.serverCode;
      void serverCode;
    }
  }

  // misuses the types must refuse
  // @ts-expect-error a Meeting comes from joinMeeting, not from its constructor
  void new Meeting();
  // @ts-expect-error a misspelt core option
  await joinMeeting({ server: 'https://meet.example.com', meeting: id, coreOptions: { reconectBaseMs: 50 } });
  // @ts-expect-error the seed is joinMeeting's own option, not a core option
  await joinMeeting({ server: 'https://meet.example.com', meeting: id, coreOptions: { seed: 1 } });
  // @ts-expect-error unknown event name
  meeting.on('peer-joined-typo', () => {});
  // @ts-expect-error a data event has no `code`
  meeting.on('data', (e) => e.code);
  // @ts-expect-error chat is app data now (send and 'data'): no 'chat' event
  meeting.on('chat', () => {});
  // @ts-expect-error a state is not any string
  const badState: MeetingState = 'sleeping';
  // @ts-expect-error not a documented error code
  const badCode: ErrorCode = 'oops';
  // @ts-expect-error `server` is required
  await joinMeeting({ meeting: id });
  // @ts-expect-error `state` is read-only
  meeting.state = 'left';
  // @ts-expect-error nor sendChat
  meeting.sendChat('hello');
  // @ts-expect-error MeetingEvents has exactly the documented keys
  const missing: MeetingEvents['speaking'] = null;
  void [badState, badCode, missing];
}

void app;
