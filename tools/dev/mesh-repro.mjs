// Dev tool: N Chromium pages join one meeting through the web app (at once, or
// one after another with SEQ=1), then print per page the decoded frame counts
// of every remote <video data-peer> (all must be > 0).
//   N=4 SEQ=1 V=1 DUMP=1 node tools/dev/mesh-repro.mjs
// V=1: the core's peer-negotiation/mesh transitions (?debug). DUMP=1: per
// RTCPeerConnection its API calls/events, transceivers and RTP stats.
// MEDIA=1: P0 mutes and turns its camera off and on; the others' view of it.
import { readFileSync } from 'node:fs';
import { launchChromium } from '../../tests/browser/harness.mjs';
// As the suites launch it (their flags, and chromium-even-priority.sh: as
// root Chromium's media threads would starve the pages' main threads).
const browser = await launchChromium(process.env.CHROME_ARGS ? process.env.CHROME_ARGS.split(' ') : [], { fakeCameraFps: null });
const base = process.env.BASE ?? 'http://127.0.0.1:8090';
const r = await fetch(base + '/api/meetings', { method: 'POST' }); const { url } = await r.json();
const N = Number(process.env.N ?? 2);
const instrument = process.env.DUMP ? readFileSync(new URL('./pc-instrument.js', import.meta.url), 'utf8') : null;
const pages = [];
for (let i = 0; i < N; i++) {
  const c = await browser.newContext(); const p = await c.newPage();
  const name = 'P' + i;
  if (instrument) await p.addInitScript(instrument);
  p.on('console', m => { const t = m.text(); if (process.env.V && t.startsWith('meshmeet')) { const e = JSON.parse(t.slice(9)); if (process.env.V === 'all' || e.machine === 'peer-negotiation' || e.machine==='mesh') console.log(name, e.machine.slice(0, 4), e.subject.slice(0,4), e.from, '->', e.to, e.detail); } });
  p.on('pageerror', e => console.log(name, 'ERR', e.message));
  await p.goto(base + url + '?debug'); await p.getByLabel('Your name').fill(name);
  pages.push(p);
}
if (process.env.SEQ) { for (const p of pages) { await p.getByRole('button', { name: 'Join' }).click(); await p.waitForSelector('#meeting-view:not([hidden])'); } } else await Promise.all(pages.map(p => p.getByRole('button', { name: 'Join' }).click()));
await pages[0].waitForTimeout(Number(process.env.WAIT ?? 4000));
if (instrument) for (const [i, p] of pages.entries()) {
  for (const pc of await p.evaluate(() => window.__dump())) {
    console.log(`P${i} pc#${pc.n} ${pc.sig} ice=${pc.ice} conn=${pc.conn}\n  tx ${pc.tx.join('\n     ')}\n  in ${pc.inb.join(' ')}  out ${pc.outb.join(' ')}`);
    for (const l of pc.log) console.log('    ' + l);
  }
}
for (const [i, p] of pages.entries()) {
  const tiles = await p.evaluate(() => [...document.querySelectorAll('video[data-peer]')].map(v => [v.dataset.peer, v.getVideoPlaybackQuality().totalVideoFrames]));
  console.log(`P${i} tiles`, JSON.stringify(tiles));
}
for (const p of pages) console.log('frames', JSON.stringify(await p.evaluate(() => [...document.querySelectorAll('video[data-peer]')].map(v => v.getVideoPlaybackQuality().totalVideoFrames))));
// MEDIA=1: P0 turns its microphone and camera off, then its camera on again;
// prints how every other page shows P0's tile (peer-media).
if (process.env.MEDIA) {
  const shown = () => Promise.all(pages.slice(1).map((p) => p.evaluate(() => {
    const tile = [...document.querySelectorAll('[data-tile]')].find((t) => t.querySelector('.name').textContent === 'P0');
    return tile ? `mic ${tile.querySelector('.mic-off').hidden ? 'on' : 'OFF'}, camera ${tile.dataset.cameraOff === 'true' ? 'OFF' : 'on'}` : 'no tile';
  })));
  console.log('P0 as the others show it:', JSON.stringify(await shown()));
  await pages[0].locator('#mic-button').click();
  await pages[0].locator('#camera-button').click();
  await pages[0].waitForTimeout(500);
  console.log('P0 muted, camera off:     ', JSON.stringify(await shown()));
  await pages[0].locator('#camera-button').click();
  await pages[0].waitForTimeout(500);
  console.log('P0 camera on again:       ', JSON.stringify(await shown()));
}
await browser.close();
