// Dev tool: the join of a second page, as one timeline of both pages (wall
// clock, ms from the "Join" click): WebSocket messages, RTCPeerConnection
// calls and events, the first decoded remote frame. Shows which end waits
// for what (tools/baseline for the same with a plain page). SUMMARY=1 prints
// only the time to the first frame. PAGES=N: N-1 pages in the meeting, the
// last one joining; COUNT=1 prints, per page, how often each call was made
// from its "Join" until every page shows everyone's video (and 3 s more),
// how long the calls into the browser's WebRTC objects held the main thread
// (most block on Chromium's WebRTC threads) until then and 3 s later, and
// the key frames its encoders made (each resolution change makes one).
// TOGETHER=1: every page clicks "Join" one right after the other, as
// tools/mesh-bench.mjs does (times from the first click).
// "main thread stalled N ms": a 50 ms timer that came N ms late (a long task).
//   build/bin/meshmeet-server --port 8090 --static build/web &
//   node tools/dev/join-timeline.mjs
//   BASE=http://127.0.0.1:8091 node tools/dev/join-timeline.mjs   # a server with --static tools/baseline
import { launchChromium } from '../../tests/browser/harness.mjs';
const base = process.env.BASE ?? 'http://127.0.0.1:8090';
const init = () => {
  const T = () => Math.round((performance.timeOrigin + performance.now()) % 100000);
  window.__tl = [];
  const L = (s) => window.__tl.push([T(), s]);
  window.__L = L;
  const OWS = window.WebSocket;
  window.WebSocket = function (...a) { const ws = new OWS(...a); L('ws new'); ws.addEventListener('open', () => L('ws open'));
    ws.addEventListener('message', (e) => { const m = JSON.parse(e.data); L('ws< ' + m.type + (m.data ? ' ' + (typeof m.data === 'string' ? m.data : JSON.stringify(m.data)).slice(0, 40).replace(/[^a-z ":{]/gi, '') : '')); });
    const send = ws.send.bind(ws); ws.send = (d) => { const m = JSON.parse(d); L('ws> ' + m.type + (m.data ? ' ' + (typeof m.data === 'string' ? m.data : JSON.stringify(m.data)).slice(0, 40).replace(/[^a-z ":{]/gi, '') : '')); send(d); }; return ws; };
  window.WebSocket.prototype = OWS.prototype; Object.assign(window.WebSocket, { OPEN: 1, CONNECTING: 0, CLOSING: 2, CLOSED: 3 });
  // How long the page's calls into the browser's WebRTC objects held the main
  // thread (most block on Chromium's WebRTC threads): name → [calls, ms].
  window.__sync = {};
  const held = (n, t0) => { const e = (window.__sync[n] ??= [0, 0]); e[0]++; e[1] += performance.now() - t0; };
  const O = window.RTCPeerConnection;
  window.RTCPeerConnection = function (...a) { L('pc new'); const t0 = performance.now(); const pc = new O(...a); held('new RTCPeerConnection', t0); (window.__pcs ??= []).push(pc);
    const sld = pc.setLocalDescription.bind(pc), srd = pc.setRemoteDescription.bind(pc);
    pc.setLocalDescription = (d) => { L('SLD ' + pc.signalingState); return sld(d).then((r) => { L('SLD done ' + pc.localDescription.type); return r; }); };
    pc.setRemoteDescription = (d) => { L('SRD ' + d.type); return srd(d).then((r) => { L('SRD done'); return r; }); };
    const at = pc.addTrack.bind(pc); pc.addTrack = (...x) => { L('addTrack ' + x[0].kind); const s = at(...x); s.__pc = window.__pcs.length; return s; };
    pc.addEventListener('negotiationneeded', () => L('negotiationneeded'));
    pc.addEventListener('icegatheringstatechange', () => L('gathering ' + pc.iceGatheringState));
    pc.addEventListener('connectionstatechange', () => L('conn ' + pc.connectionState));
    pc.addEventListener('iceconnectionstatechange', () => L('ice ' + pc.iceConnectionState));
    pc.addEventListener('track', (e) => L('track ' + e.track.kind));
    return pc; };
  window.RTCPeerConnection.prototype = O.prototype;
  const of = window.fetch; window.fetch = (u, ...a) => { const path = String(u.url ?? u).replace(/^https?:\/\/[^/]+/, ''); L('fetch ' + path); return of(u, ...a).then((r) => { L('fetched ' + path); return r; }); };
  document.addEventListener('click', () => L('click'), true);
  // The main thread's long stalls: a 50 ms tick that came late.
  let tick = performance.now();
  setInterval(() => { const now = performance.now(); if (now - tick > 250) L('main thread stalled ' + Math.round(now - tick - 50) + ' ms'); tick = now; }, 50);
  const sp = RTCRtpSender.prototype.setParameters; RTCRtpSender.prototype.setParameters = function (...a) { const e = a[0]?.encodings?.[0] ?? {}; L('setParameters ' + this.track?.kind + ' pc' + this.__pc + ' ' + [e.active, e.maxBitrate, e.scaleResolutionDownBy, e.maxFramerate].join('/')); return sp.apply(this, a).then((r) => { L('setParameters done'); return r; }); };
  const gp = RTCRtpSender.prototype.getParameters; RTCRtpSender.prototype.getParameters = function (...a) { L('getParameters'); return gp.apply(this, a); };
  const cdc = RTCPeerConnection.prototype.createDataChannel; RTCPeerConnection.prototype.createDataChannel = function (...a) { L('createDataChannel ' + a[0]); return cdc.apply(this, a); };
  const gs = RTCPeerConnection.prototype.getStats; RTCPeerConnection.prototype.getStats = function (...a) { L('getStats'); return gs.apply(this, a); };
  const sc = RTCPeerConnection.prototype.setConfiguration; RTCPeerConnection.prototype.setConfiguration = function (...a) { L('setConfiguration'); return sc.apply(this, a); };
  const mk = (o, n) => { const f = o[n]; o[n] = function (...a) { L(n); return f.apply(this, a); }; };
  mk(RTCPeerConnection.prototype, 'getTransceivers'); mk(RTCPeerConnection.prototype, 'getSenders'); mk(RTCPeerConnection.prototype, 'getReceivers');
  const timed = (o, n) => { const f = o[n]; if (typeof f !== 'function') return; o[n] = function (...a) { const t0 = performance.now(); try { return f.apply(this, a); } finally { held(n, t0); } }; };
  for (const n of ['createDataChannel', 'addTrack', 'addTransceiver', 'getReceivers', 'getSenders', 'getTransceivers', 'getConfiguration', 'setConfiguration', 'setLocalDescription', 'setRemoteDescription', 'addIceCandidate', 'createOffer', 'createAnswer', 'getStats', 'close']) timed(RTCPeerConnection.prototype, n);
  for (const n of ['getParameters', 'setParameters', 'replaceTrack', 'getStats']) timed(RTCRtpSender.prototype, n);
  for (const n of ['getSynchronizationSources', 'getContributingSources', 'getStats']) timed(RTCRtpReceiver.prototype, n);
};
// As the bench launches it (the harness: the same flags, and without
// CAP_SYS_NICE, so that the pages' media threads cannot starve their main
// threads), with Chromium's own fake camera frame rate.
const browser = await launchChromium([], { fakeCameraFps: null });
const { url } = await (await fetch(base + '/api/meetings', { method: 'POST' })).json();
const count = Number(process.env.PAGES ?? 2);
const pages = [];
for (let i = 0; i < count; i++) { const p = await (await browser.newContext()).newPage(); await p.addInitScript(init); await p.goto(base + url); await p.locator('#your-name, #name').first().fill('P' + i);
  await p.waitForFunction(() => document.querySelector('video')?.readyState >= 2); pages.push(p); }
const showsEveryone = (p, others) => p.waitForFunction((n) => [...document.querySelectorAll('video[data-peer]')].filter((v) => v.getVideoPlaybackQuality().totalVideoFrames > 0).length >= n, others, { timeout: 60000 });
const together = Boolean(process.env.TOGETHER);  // every page clicks "Join" at once, as mesh-bench does
if (!together) {
  for (const [i, p] of pages.slice(0, -1).entries()) {
    await p.getByRole('button', { name: 'Join' }).click();
    await Promise.all(pages.slice(0, i + 1).map((q) => showsEveryone(q, i)));
  }
  await pages[0].waitForTimeout(3000);  // the settled call's own changes are over
  for (const p of pages) await p.evaluate(() => { window.__tl.length = 0; });
}
const newcomer = pages.at(-1);
if (together) for (const p of pages.slice(0, -1)) await p.getByRole('button', { name: 'Join' }).click();
await newcomer.getByRole('button', { name: 'Join' }).click();
await Promise.all(pages.map((p) => p.waitForFunction((others) => { const playing = [...document.querySelectorAll('video[data-peer]')].filter((v) => v.getVideoPlaybackQuality().totalVideoFrames > 0); if (playing.length && !window.__ff) { window.__ff = 1; window.__L('FIRST FRAME'); } if (playing.length >= others && !window.__all) { window.__all = 1; window.__L('ALL VIDEO'); window.__syncAtAll = JSON.parse(JSON.stringify(window.__sync)); } return playing.length >= others; }, count - 1, { polling: 10, timeout: 60000 })));
if (process.env.COUNT) {
  await newcomer.waitForTimeout(3000);  // what the join sets off after the first frames
  for (const [i, p] of pages.entries()) {
    const calls = {};
    for (const [, s] of await p.evaluate(() => window.__tl)) { const k = s.startsWith('ws') ? s.split(' ').slice(0, 2).join(' ') : s.split(' ')[0]; calls[k] = (calls[k] ?? 0) + 1; }
    console.log('P' + i + (p === newcomer ? ' (joined last)' : ''), JSON.stringify(calls));
    const rounded = (o) => Object.fromEntries(Object.entries(o).map(([k, [n, ms]]) => [k, [n, Math.round(ms)]]));
    console.log('    browser calls [count, ms held] until all video:', JSON.stringify(rounded(await p.evaluate(() => window.__syncAtAll))));
    console.log('    and 3 s more:', JSON.stringify(rounded(await p.evaluate(() => window.__sync))));
    // What the encoders went through: key frames (each encoder reset makes one), and the receivers' asks for them.
    console.log('   ', JSON.stringify(await p.evaluate(async () => { const s = { keyFramesEncoded: 0, framesEncoded: 0, pliReceived: 0, firReceived: 0, keyFramesDecoded: 0 };
      for (const pc of window.__pcs) for (const r of (await pc.getStats()).values()) {
        if (r.type === 'outbound-rtp' && r.kind === 'video') { s.keyFramesEncoded += r.keyFramesEncoded ?? 0; s.framesEncoded += r.framesEncoded ?? 0; s.pliReceived += r.pliCount ?? 0; s.firReceived += r.firCount ?? 0; }
        if (r.type === 'inbound-rtp' && r.kind === 'video') s.keyFramesDecoded += r.keyFramesDecoded ?? 0; }
      return s; })));
  }
  await browser.close();
  process.exit(0);
}
const all = [];
for (const [i, p] of pages.entries()) for (const [t, s] of await p.evaluate(() => window.__tl)) all.push([t, 'P' + i, s]);
all.sort((a, b) => a[0] - b[0]);
const t0 = all.find((x) => x[2] === 'click')?.[0] ?? all[0][0];
if (process.env.SUMMARY) { console.log('first frame', all.find((x) => x[2] === 'FIRST FRAME' && x[1] === 'P' + (count - 1))[0] - t0, 'nn', all.find((x) => x[2] === 'negotiationneeded')[0] - t0); await browser.close(); process.exit(0); }
let last = '';
for (const [t, who, s] of all) { const k = who + s; if (k === last && /cand|ws. signal/.test(s)) continue; last = k; console.log(String(t - t0).padStart(6), who, s); }
await browser.close();
