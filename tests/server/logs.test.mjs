// Log privacy: whatever participants say or are called, the server's output
// (stdout and stderr, at every log level) never carries participant names,
// SDP or ICE candidates, resume tokens or full meeting ids.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  T, FAST, startServer, finish, finishAll, createMeeting, get, Client, fakeId, sleep,
} from './harness.mjs';

after(async () => { await finishAll(); }, T);

const ALICE = 'Zelda Quartermain-7f3a';
const BOB = 'Yusuf Brightwater-c41d';
const OFFER_SDP = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:Qx7fLogPriv',
  'a=ice-pwd:sEcReTiCePwD0123456789ab',
  'a=fingerprint:sha-256 AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
  'a=candidate:842163049 1 udp 1677729535 203.0.113.77 61234 typ srflx raddr 192.168.1.23 rport 61234 generation 0',
  '',
].join('\r\n');
const CANDIDATE = 'candidate:1467250027 1 udp 2122260223 198.51.100.42 54321 typ host generation 0 ufrag Qx7fLogPriv';
const ANSWER_SDP = 'v=0\r\no=- 99 2 IN IP4 127.0.0.1\r\na=ice-ufrag:AnsUfragLogPriv\r\na=ice-pwd:answerIcePasswordLogPriv\r\n';

/** Everything a participant's session puts through the server, the resume included. */
async function busyMeeting(srv) {
  const m = await createMeeting(srv.url, { name: 'log privacy' });
  const alice = await Client.connect(srv.wsUrl);
  const wa = await alice.join(m.id, ALICE);
  const bob = await Client.connect(srv.wsUrl);
  const wb = await bob.join(m.id, BOB);
  await alice.next('peer-joined');

  alice.send({ type: 'signal', to: bob.self, data: { description: { type: 'offer', sdp: OFFER_SDP } } });
  alice.send({ type: 'signal', to: bob.self, data: { candidate: { candidate: CANDIDATE, sdpMid: '0', sdpMLineIndex: 0 } } });
  await bob.next('signal');
  await bob.next('signal');
  bob.send({ type: 'signal', to: alice.self, data: { description: { type: 'answer', sdp: ANSWER_SDP } } });
  await alice.next('signal');
  // Errors that carry the secrets in the offending message.
  alice.send({ type: 'signal', to: 'no-such-peer', data: { sdp: OFFER_SDP } });
  await alice.next('error');
  alice.send(`{"type":"signal","to":"${bob.self}","data":"${CANDIDATE}"}`);
  await alice.next('error');
  alice.send(`not json ${ALICE} ${CANDIDATE}`);
  await alice.next('error');

  // Bob drops without a close frame and resumes with his token.
  bob.drop();
  await sleep(100);
  const bob2 = await Client.connect(srv.wsUrl);
  const wb2 = await bob2.join(m.id, BOB, wb.resume);
  assert.equal(wb2.self, wb.self, 'resumed');
  // A wrong token, and the right token for another meeting.
  const other = await createMeeting(srv.url, {});
  const eve = await Client.connect(srv.wsUrl);
  assert.equal((await eve.tryJoin(m.id, 'eve', 'x'.repeat(32))).code, 'bad-resume');
  assert.equal((await eve.tryJoin(other.id, 'eve', wa.resume)).code, 'bad-resume');
  await get(srv.url, `/m/${m.id}`);
  await get(srv.url, `/api/meetings/${m.id}`);
  await get(srv.url, `/api/meetings/${fakeId()}`);

  alice.send({ type: 'leave' });
  await alice.waitClosed();
  await bob2.next('peer-left');
  bob2.close(1000);
  await bob2.waitClosed();
  eve.close(1000);
  await eve.waitClosed();
  return { secrets: [m.id, other.id, wa.resume, wb.resume, wb2.resume, ALICE, BOB] };
}

const SDP_MARKERS = [
  OFFER_SDP, ANSWER_SDP, CANDIDATE, 'a=candidate', 'candidate:', 'ice-ufrag', 'ice-pwd', 'Qx7fLogPriv',
  'sEcReTiCePwD0123456789ab', 'answerIcePasswordLogPriv', '203.0.113.77', '198.51.100.42', 'fingerprint',
];

function assertPrivate(srv, secrets) {
  const output = `${srv.stdoutText()}\n${srv.stderrText()}`;
  for (const s of [...secrets, ...SDP_MARKERS]) {
    assert.ok(!output.includes(s), `the server's output contains ${JSON.stringify(s.slice(0, 40))}:\n${output.slice(0, 3000)}`);
  }
  // The escaped forms a JSON log line would carry.
  for (const s of [OFFER_SDP, ANSWER_SDP]) assert.ok(!output.includes(JSON.stringify(s).slice(1, 30)));
}

for (const level of ['info', 'debug']) {
  test(`--log-level ${level}: names, SDP, candidates, resume tokens and meeting ids never reach stdout or stderr`, T, async () => {
    const srv = await startServer([...FAST, '--log-level', level]);
    let secrets;
    try {
      ({ secrets } = await busyMeeting(srv));
    } finally {
      await finish(srv); // SIGTERM: the shutdown's lines are checked too
    }
    assertPrivate(srv, secrets);
    const levels = new Set(srv.logs().map((j) => j.level));
    if (level === 'debug') assert.ok(levels.has('debug'), `debug lines were written: ${[...levels]}`);
    else assert.ok(!levels.has('debug'), 'no debug lines at info');
    assert.ok(srv.logs().some((j) => j.event === 'meeting-created'), 'the run did log');
  });
}
