// Self-test of the fake WebRTC stack (fake-webrtc.mjs): the spec behaviours
// the shim tests rely on, checked directly, without the shim or the server.

import test from 'node:test';
import assert from 'node:assert/strict';
import { createFakeWebRTC, fakeLocalStream, parseSdp } from './fake-webrtc.mjs';
import { sleep, waitFor } from './harness.mjs';

const T = { timeout: 10000 };

// Wires two connections' candidates to each other directly.
function trickle(a, b) {
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate.toJSON()).catch(() => {});
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate.toJSON()).catch(() => {});
}

async function offerAnswer(offerer, answerer) {
  await offerer.setLocalDescription();
  await answerer.setRemoteDescription(offerer.localDescription);
  await answerer.setLocalDescription();
  await offerer.setRemoteDescription(answerer.localDescription);
}

function pair(options = {}) {
  const { network, RTCPeerConnection } = createFakeWebRTC({ seed: 3, ...options });
  const a = new RTCPeerConnection({ iceServers: [] });
  const b = new RTCPeerConnection({ iceServers: [] });
  const ca = a.createDataChannel('meshmeet', { negotiated: true, id: 0 });
  const cb = b.createDataChannel('meshmeet', { negotiated: true, id: 0 });
  return { network, a, b, ca, cb };
}

test('offer/answer with trickled candidates connects; the data channel carries messages', T, async (t) => {
  const { network, a, b, ca, cb } = pair();
  t.after(() => network.stop());
  const states = { a: [], b: [] };
  a.oniceconnectionstatechange = () => states.a.push(`ice:${a.iceConnectionState}`);
  a.onconnectionstatechange = () => states.a.push(`pc:${a.connectionState}`);
  trickle(a, b);
  await offerAnswer(a, b);
  assert.equal(a.signalingState, 'stable');
  assert.equal(b.signalingState, 'stable');
  const fa = parseSdp(a.localDescription.sdp).fingerprint;
  const fb = parseSdp(b.localDescription.sdp).fingerprint;
  assert.match(a.localDescription.sdp, /^a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\r$/m);
  assert.notEqual(fa, fb, 'fingerprints are unique per connection');
  await waitFor(() => a.connectionState === 'connected' && b.connectionState === 'connected', 2000, 'connected');
  assert.deepEqual(states.a, ['ice:checking', 'pc:connecting', 'ice:connected', 'pc:connected']);
  await waitFor(() => ca.readyState === 'open' && cb.readyState === 'open', 2000, 'channels open');
  const got = [];
  cb.onmessage = (e) => got.push(e.data);
  ca.send('hello');
  ca.send('again');
  await waitFor(() => got.length === 2, 2000, 'messages');
  assert.deepEqual(got, ['hello', 'again']);
  a.close();
  await waitFor(() => cb.readyState === 'closed', 2000, "the partner's channel to close");
  b.close();
  assert.equal(network.openPcs().length, 0);
});

test('no candidates, no connection; candidates for another ufrag are refused', T, async (t) => {
  const { network, a, b } = pair();
  t.after(() => network.stop());
  await offerAnswer(a, b);
  await sleep(100);
  assert.equal(a.iceConnectionState, 'new', 'without a single candidate ICE cannot connect');
  await assert.rejects(
    a.addIceCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', usernameFragment: 'nope' }),
    { name: 'OperationError' },
  );
  await a.addIceCandidate({ candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', usernameFragment: parseSdp(b.localDescription.sdp).ufrag });
  await waitFor(() => a.connectionState === 'connected' && b.connectionState === 'connected', 2000, 'connected');
  const fresh = createFakeWebRTC().RTCPeerConnection;
  await assert.rejects(new fresh().addIceCandidate({ candidate: 'x', sdpMid: '0' }), { name: 'InvalidStateError' });
  a.close();
  b.close();
});

test('glare: a remote offer in have-local-offer is refused unless rolled back (or implicitRollback)', T, async (t) => {
  const { network, a, b } = pair();
  t.after(() => network.stop());
  await a.setLocalDescription();
  await b.setLocalDescription();
  assert.equal(a.signalingState, 'have-local-offer');
  await assert.rejects(b.setRemoteDescription(a.localDescription), { name: 'InvalidStateError' });
  assert.equal(b.signalingState, 'have-local-offer');
  const seen = [];
  b.onsignalingstatechange = () => seen.push(b.signalingState);
  // explicit rollback, queued back to back on the operations chain
  const rollback = b.setLocalDescription({ type: 'rollback' });
  const remote = b.setRemoteDescription(a.localDescription);
  await Promise.all([rollback, remote]);
  assert.deepEqual(seen, ['stable', 'have-remote-offer']);
  await b.setLocalDescription();
  assert.equal(b.localDescription.type, 'answer');
  await a.setRemoteDescription(b.localDescription);
  assert.equal(a.signalingState, 'stable');
  await assert.rejects(a.setLocalDescription({ type: 'rollback' }), { name: 'InvalidStateError' });
  await assert.rejects(a.setRemoteDescription({ type: 'answer', sdp: b.localDescription.sdp }), { name: 'InvalidStateError' });
  a.close();
  b.close();

  const modern = pair({ implicitRollback: true });
  t.after(() => modern.network.stop());
  await modern.a.setLocalDescription();
  await modern.b.setLocalDescription();
  await modern.b.setRemoteDescription(modern.a.localDescription);
  assert.equal(modern.b.signalingState, 'have-remote-offer');
  modern.a.close();
  modern.b.close();
});

test('implicit setLocalDescription, or TypeError like node-webrtc with implicitSld: false', T, async (t) => {
  const { network, a } = pair();
  t.after(() => network.stop());
  await a.setLocalDescription();
  assert.equal(a.localDescription.type, 'offer');
  a.close();
  await assert.rejects(a.setLocalDescription(), { name: 'InvalidStateError' });
  const old = pair({ implicitSld: false });
  t.after(() => old.network.stop());
  await assert.rejects(old.a.setLocalDescription(), TypeError);
  const offer = await old.a.createOffer();
  await old.a.setLocalDescription(offer);
  assert.equal(old.a.signalingState, 'have-local-offer');
  old.a.close();
  old.b.close();
});

test('negotiationneeded: first data channel, addTrack, removeTrack, restartIce — once each', T, async (t) => {
  const { network, RTCPeerConnection } = createFakeWebRTC();
  t.after(() => network.stop());
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  let na = 0;
  a.onnegotiationneeded = () => na++;
  a.createDataChannel('x', { negotiated: true, id: 0 });
  b.createDataChannel('x', { negotiated: true, id: 0 });
  await sleep(20);
  assert.equal(na, 1, 'the first data channel needs negotiation');
  a.createDataChannel('y', { negotiated: true, id: 1 });
  await sleep(20);
  assert.equal(na, 1, 'a second channel does not, and the flag does not re-fire');
  trickle(a, b);
  await offerAnswer(a, b);
  await sleep(20);
  assert.equal(na, 1, 'negotiated: nothing more needed');
  await waitFor(() => a.connectionState === 'connected', 2000, 'connected');

  const stream = fakeLocalStream();
  const sender = a.addTrack(stream.getVideoTracks()[0], stream);
  await sleep(20);
  assert.equal(na, 2, 'addTrack');
  const tracks = [];
  b.ontrack = (e) => tracks.push(e.track);
  await offerAnswer(a, b);
  await waitFor(() => tracks.length === 1, 1000, 'the remote track');
  assert.equal(tracks[0].id, stream.getVideoTracks()[0].id);
  assert.equal(tracks[0].kind, 'video');
  await sleep(20);
  assert.equal(na, 2);

  const p = sender.getParameters();
  p.encodings[0].maxBitrate = 500000;
  p.encodings[0].scaleResolutionDownBy = 2;
  await sender.setParameters(p);
  assert.deepEqual(sender.setParametersCalls.at(-1)[0], { active: true, maxBitrate: 500000, scaleResolutionDownBy: 2 });
  await assert.rejects(sender.setParameters(p), { name: 'InvalidModificationError' }, 'needs a fresh getParameters');

  a.removeTrack(sender);
  await sleep(20);
  assert.equal(na, 3, 'removeTrack');
  await offerAnswer(a, b);
  await sleep(20);

  const ufrag = parseSdp(a.localDescription.sdp).ufrag;
  const ufragB = parseSdp(b.localDescription.sdp).ufrag;
  a.restartIce();
  await sleep(20);
  assert.equal(na, 4, 'restartIce');
  await offerAnswer(a, b);
  assert.notEqual(parseSdp(a.localDescription.sdp).ufrag, ufrag, 'the offer after restartIce has new credentials');
  assert.notEqual(parseSdp(b.localDescription.sdp).ufrag, ufragB, 'the answerer restarts ICE too');
  await sleep(20);
  assert.equal(na, 4, 'the restart is done');
  a.close();
  b.close();
});

test('forced failure: only an ICE restart reconnects; disconnected can recover by itself', T, async (t) => {
  const { network, a, b, ca, cb } = pair();
  t.after(() => network.stop());
  trickle(a, b);
  await offerAnswer(a, b);
  await waitFor(() => ca.readyState === 'open' && cb.readyState === 'open', 2000, 'open');
  network.fail(a);
  assert.equal(a.iceConnectionState, 'failed');
  assert.equal(b.connectionState, 'failed');
  const got = [];
  cb.onmessage = (e) => got.push(e.data);
  ca.send('while down');
  await sleep(100);
  assert.deepEqual(got, [], 'nothing crosses a failed link');
  assert.equal(a.iceConnectionState, 'failed', 'stays failed without a restart');
  a.restartIce();
  await offerAnswer(a, b);
  await waitFor(() => a.connectionState === 'connected' && b.connectionState === 'connected', 2000, 'reconnected');
  await waitFor(() => got.length === 1, 1000, 'the buffered message');
  assert.equal(ca.readyState, 'open', 'the channel survived the restart');

  network.disconnect(b, { recoverAfterMs: 50 });
  assert.equal(b.iceConnectionState, 'disconnected');
  await waitFor(() => a.connectionState === 'connected' && b.connectionState === 'connected', 1000, 'recovered');

  const stats = await a.getStats();
  const pairStat = [...stats.values()].find((s) => s.type === 'candidate-pair');
  assert.equal(pairStat.state, 'succeeded');
  assert.equal(typeof pairStat.currentRoundTripTime, 'number');
  a.close();
  b.close();
  assert.equal(network.openPcs().length, 0);
});
