// One meeting participant in its own process, for wrtc.test.mjs: real WebRTC
// (@roamhq/wrtc) through the built package. The test talks to it over the
// IPC channel of child_process.fork and can SIGKILL it to drop it uncleanly
// (its TCP connections die with it, no close frame is sent).
//
//   fork('wrtc-participant.mjs', [JSON.stringify({server, meeting, name, coreOptions, seed})])
//
// To the parent: {type:'joined', self, peers} once welcomed, then
// {type:'event', event, data} for every meeting event, {type:'error', message}
// if the join fails, {type:'sent', id} or {type:'send-failed', id, code, message}
// for each send. From the parent: {cmd:'send', id, data, to, ms} (sendToEach
// of harness.mjs: to each peer id of `to`), {cmd:'leave'}.

import wrtc from '@roamhq/wrtc';
import WebSocket from 'ws';
import { joinMeeting } from '../../dist/meshmeet.js';
import { sendToEach } from './harness.mjs';

const options = JSON.parse(process.argv[2]);
const send = (msg) => {
  if (process.connected) process.send(msg);
};

// The parent went away: do not linger.
process.on('disconnect', () => process.exit(0));

function plain(type, e) {
  switch (type) {
    case 'track': return { peer: e.peer, kind: e.kind, track: { id: e.track?.id } };
    case 'error': return { code: e.code, message: e.message, peer: e.peer };
    default: return JSON.parse(JSON.stringify(e));
  }
}

let meeting;
try {
  meeting = await joinMeeting({
    server: options.server,
    meeting: options.meeting,
    name: options.name,
    RTCPeerConnection: wrtc.RTCPeerConnection,
    WebSocket,
    coreOptions: options.coreOptions,
    seed: options.seed,
  });
} catch (e) {
  send({ type: 'error', code: e.code, message: e.message });
  process.exit(1);
}

for (const type of ['state', 'welcomed', 'peer-joined', 'peer-left', 'peer-state', 'track', 'data', 'quality', 'verification-code', 'error'])
  meeting.on(type, (e) => send({ type: 'event', event: type, data: plain(type, e) }));

send({ type: 'joined', self: meeting.self, peers: [...meeting.peers.values()] });

process.on('message', async (msg) => {
  if (msg?.cmd === 'send') {
    try {
      await sendToEach(meeting, msg.data, msg.to, msg.ms);
      send({ type: 'sent', id: msg.id });
    } catch (e) {
      send({ type: 'send-failed', id: msg.id, code: e.code, message: e.message });
    }
  }
  if (msg?.cmd === 'leave') {
    await meeting.leave();
    send({ type: 'left' });
    process.exit(0);
  }
});
