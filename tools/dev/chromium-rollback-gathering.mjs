// Dev tool: the Chromium behaviour behind "pairs without media when members
// join one after another" (see wasm/core/peer_negotiation.hpp), without
// meshmeet. A fresh RTCPeerConnection makes its first offer; a remote offer is
// then applied (implicit rollback) and answered. If the rollback came before
// the connection's ICE gathering began, it never gathers a candidate
// afterwards (Chromium 156: 0 candidates, iceGatheringState stuck at
// "gathering", and an ICE restart gathers nothing either). Rolled back after
// gathering began, it works.
//   node tools/dev/chromium-rollback-gathering.mjs   (any page on BASE serves as origin)
import { launchChromium } from '../../tests/browser/harness.mjs';
const browser = await launchChromium([], { fakeCameraFps: null });  // the suites' flags and launcher
for (const gap of [0, 300]) for (const early of [true, false]) {
  const p = await (await browser.newContext()).newPage();
  await p.goto(process.env.BASE ?? 'http://127.0.0.1:8090/');
  const res = await p.evaluate(async ({ gap, early }) => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const log = [];
    const t0 = performance.now(); const ts = () => Math.round(performance.now() - t0);
    const other = new RTCPeerConnection();  // the remote end, in another "page"
    other.createDataChannel('x', { negotiated: true, id: 0 });
    for (const t of stream.getTracks()) other.addTrack(t, stream);
    await other.setLocalDescription();
    const pc = new RTCPeerConnection();
    pc.createDataChannel('x', { negotiated: true, id: 0 });
    for (const t of stream.getTracks()) pc.addTrack(t, stream);
    let cands = 0;
    pc.onicecandidate = (e) => { if (e.candidate) cands++; };
    pc.onicegatheringstatechange = () => log.push(`${ts()} gathering ${pc.iceGatheringState}`);
    const offer = pc.setLocalDescription();
    if (!early) { await offer; await new Promise((r) => setTimeout(r, 300)); }
    await pc.setRemoteDescription(other.localDescription);  // implicit rollback
    await new Promise((r) => setTimeout(r, gap));
    await pc.setLocalDescription();
    const before = cands;
    await new Promise((r) => setTimeout(r, 3000));
    log.push(`candidates after the answer: ${cands - before}, gathering=${pc.iceGatheringState}`);
    // An ICE restart (new credentials, a new ICE session) does not revive it.
    const beforeRestart = cands;
    pc.restartIce();
    await pc.setLocalDescription();
    await new Promise((r) => setTimeout(r, 2000));
    log.push(`after an ICE restart: ${cands - beforeRestart}`);
    return log.join(' | ');
  }, { gap, early });
  console.log(`rollback ${early ? 'before' : 'after'} gathering began, ${gap} ms before the answer: ${res}`);
}
await browser.close();
