// What a web developer relies on beyond the events themselves, through the
// built package and the real server over the fake WebRTC network
// (fake-webrtc.mjs):
//   - no missed events: listeners added right after `await joinMeeting()`
//     still get the 'state' changes, 'welcomed' and a 'peer-joined' for each
//     peer already there; `meeting.peers` is complete at that moment;
//   - peerStatus(): each peer's connection, media, quality and code now;
//   - the uplink budget follows the source: a camera's real height, a
//     shared screen kept sharp at a lower frame rate;
//   - replaceVideoTrack/replaceAudioTrack resolve once every sender carries
//     the new track, and reject with 'track-not-replaced' when one refused
//     it, every sender then back on the previous track.
//
//   node --test --test-concurrency=1 tests/node/meeting-api.test.mjs

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { joinMeeting, liveCoreObjects, MeshmeetError } from '../../dist/meshmeet.js';
import { createFakeWebRTC, FakeMediaStreamTrack, fakeLocalStream } from './fake-webrtc.mjs';
import { newMeetingId, startServer, waitFor, withTimeout } from './harness.mjs';

const CORE = { connectWatchdogMs: 5000, statsIntervalMs: 200 };

describe('the Meeting API beyond events (fake WebRTC)', () => {
  let srv;
  let network;
  let meetingId;
  const meetings = [];

  before(async () => {
    srv = await startServer();
    ({ network } = createFakeWebRTC({ seed: 11, replaceTrackDelayMs: 30 }));
    meetingId = await newMeetingId(srv, 'api');
  });
  after(async () => {
    for (const m of meetings) m.dispose();
    network?.stop();
    await srv?.stop();
    assert.equal(await liveCoreObjects(), 0, 'no core client outlives the suite');
  });

  const join = async (name, extra = {}) => {
    const m = await withTimeout(
      joinMeeting({ server: srv.url, meeting: meetingId, name, RTCPeerConnection: network.peerConnectionClass(name), WebSocket, localStream: fakeLocalStream(), coreOptions: CORE, ...extra }),
      8000,
      `${name} to join`,
    );
    meetings.push(m);
    return m;
  };
  const connected = (m, n) => waitFor(() => [...m.peers.keys()].length === n && [...m.peers.keys()].every((id) => m.peerStatus(id)?.state === 'connected'),
    10000, `${m.name || m.self.name} connected to ${n}`);

  it('listeners added right after `await joinMeeting()` get the join\'s events: state changes, welcomed, and a peer-joined for each peer already there', async () => {
    const ada = await join('Ada');
    const bob = await join('Bob');
    await connected(ada, 1);
    // Cy subscribes in the tick the join resolves in, as an app would.
    const cy = await join('Cy');
    assert.deepEqual([...cy.peers.values()].map((p) => p.name).sort(), ['Ada', 'Bob'], 'meeting.peers is complete when the join resolves');
    const seen = [];
    cy.on('state', (e) => seen.push(`state:${e.state}`));
    cy.on('welcomed', (e) => seen.push(`welcomed:${e.how}`));
    cy.on('peer-joined', (p) => seen.push(`peer-joined:${p.name}`));
    await waitFor(() => seen.filter((s) => s.startsWith('peer-joined')).length === 2, 2000, 'Cy to hear of Ada and Bob', { describe: () => seen.join(' ') });
    assert.deepEqual(seen.filter((s) => s.startsWith('peer-joined')).sort(), ['peer-joined:Ada', 'peer-joined:Bob']);
    assert.ok(seen.includes('welcomed:fresh'), seen.join(' '));
    assert.ok(seen.includes('state:joined'), seen.join(' '));
    assert.ok(seen.indexOf('state:connecting') < seen.indexOf('state:joined'), `in order: ${seen.join(' ')}`);
    // Once past that tick, a new listener hears only what happens next.
    await new Promise((r) => setTimeout(r, 10));
    const late = [];
    cy.on('peer-joined', (p) => late.push(p.name));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(late, []);
    await connected(cy, 2);
    await connected(bob, 2);
  });

  it('peerStatus(): connection, media, quality and verification code of each peer now; undefined for a stranger', async () => {
    const [ada, bob] = meetings;
    await waitFor(() => {
      const s = ada.peerStatus(bob.self.id);
      return s && s.state === 'connected' && s.audio && s.video && s.quality !== null && s.verificationCode !== null;
    }, 10000, 'Ada\'s view of Bob to fill in', { describe: () => JSON.stringify(ada.peerStatus(bob.self.id)) });
    const s = ada.peerStatus(bob.self.id);
    assert.deepEqual(s.peer, { id: bob.self.id, name: 'Bob' });
    assert.equal(s.screen, false);
    assert.equal(s.trust, 'unverified');
    assert.match(s.verificationCode, /^\d{3} \d{3}$/);
    assert.equal(s.verificationCode, bob.peerStatus(ada.self.id).verificationCode, 'both ends read the same code');
    assert.ok(['good', 'fair', 'poor'].includes(s.quality));
    ada.setCamera(false);
    await waitFor(() => bob.peerStatus(ada.self.id).video === false, 5000, 'Bob to see Ada\'s camera off');
    ada.setCamera(true);
    assert.ok(ada.markVerified(bob.self.id));
    assert.equal(ada.peerStatus(bob.self.id).trust, 'verified');
    assert.equal(ada.peerStatus('nobody'), undefined);
    assert.throws(() => ada.peerStatus(7), (e) => e instanceof MeshmeetError && e.code === 'invalid-argument');
  });

  const videoSenders = () => network.openPcs().filter((pc) => pc.owner === 'Ada').flatMap((pc) => pc.getSenders()).filter((s) => s._kind === 'video' && !s._removed);

  it('replaceVideoTrack resolves once every sender carries the new track; a refusal is track-not-replaced', async () => {
    const [ada] = meetings;
    assert.equal(videoSenders().length, 2);
    const screen = new FakeMediaStreamTrack('video');
    await ada.replaceVideoTrack(screen);  // replaceTrack takes 30 ms per sender here
    assert.ok(videoSenders().every((s) => s.track === screen), 'every sender carries the new track when the promise resolves');
    const mic = new FakeMediaStreamTrack('audio');
    await ada.replaceAudioTrack(mic);
    assert.ok(network.openPcs().filter((pc) => pc.owner === 'Ada').every((pc) => pc.getSenders().some((s) => s.track === mic)));

    network.refuseReplaceTrack = 1;
    const camera = new FakeMediaStreamTrack('video');
    await assert.rejects(ada.replaceVideoTrack(camera), (e) => e instanceof MeshmeetError && e.code === 'track-not-replaced');
    assert.ok(videoSenders().every((s) => s.track === screen), 'all or nothing: every sender is back on the previous track');
    await assert.rejects(ada.replaceVideoTrack(mic), (e) => e.code === 'invalid-argument', 'an audio track as video');
    await ada.replaceVideoTrack(camera);
    assert.ok(videoSenders().every((s) => s.track === camera));
  });

  it('the uplink budget scales from the real height; a shared screen keeps its resolution at a lower frame rate, as text', async () => {
    const [ada] = meetings;
    const sent = () => videoSenders().map((s) => s.setParametersCalls.at(-1)?.[0]);
    const settled = (want, what) => waitFor(() => sent().length === 2 && sent().every(want), 3000, what, { describe: () => JSON.stringify(sent()) });
    // Two copies of 1210 kbit/s afford 480 lines: a 480p camera is sent whole
    // (the old rule assumed 720p and halved it to 320 lines), at the 25
    // frames/s of a copy 480 lines high.
    const camera = new FakeMediaStreamTrack('video');
    camera.getSettings = () => ({ width: 640, height: 480 });
    await ada.replaceVideoTrack(camera);
    await settled((p) => p?.scaleResolutionDownBy === 1 && p.maxFramerate === 25, 'the 480p camera sent whole, 25 frames/s');
    const hd = new FakeMediaStreamTrack('video');
    hd.getSettings = () => ({ width: 1920, height: 1080 });
    await ada.replaceVideoTrack(hd);
    await settled((p) => p?.scaleResolutionDownBy === 1080 / 480, 'the 1080p camera scaled to 480 lines');
    const screen = new FakeMediaStreamTrack('video');
    screen.getSettings = () => ({ displaySurface: 'monitor', width: 1920, height: 1080 });
    await ada.replaceVideoTrack(screen);
    assert.equal(screen.contentHint, 'text', 'a shared screen is marked as text');
    await settled((p) => p?.scaleResolutionDownBy === 1 && p.maxFramerate === 8, 'the screen at full resolution, 8 frames/s');
    await ada.replaceVideoTrack(camera);
    await settled((p) => p?.scaleResolutionDownBy === 1 && p.maxFramerate === 25, 'the camera again, at a camera\'s frame rate, not the screen\'s');
  });
});
