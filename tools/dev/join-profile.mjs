// Dev tool: where the main thread of a joining page goes. Two Chromium pages
// open one meeting (the app, or tools/baseline when the server serves it);
// the first joins, then the second is profiled (V8 sampling profiler and
// Chromium's tracing over CDP) from its "Join" click to its first decoded
// remote frame. Prints the time, the main thread's busy time per event kind
// (JS handlers, WebRTC calls that block on Chromium's threads, style, layout,
// paint) and the JS functions by inclusive time; writes the raw profile and
// trace to /tmp/join-profile.<variant>.{cpuprofile,trace.json}. STEADY=1
// profiles 5 s of the settled two-page call instead. PAGES=N (default 2): the
// last of N pages is profiled joining the N-1 already there, until it decodes
// every one of them.
//   build/bin/meshmeet-server --port 8090 --static build/web &
//   node tools/dev/join-profile.mjs                       # the app
//   build/bin/meshmeet-server --port 8091 --static tools/baseline &
//   BASE=http://127.0.0.1:8091 VARIANT=baseline node tools/dev/join-profile.mjs
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection'];
const base = process.env.BASE ?? 'http://127.0.0.1:8090';
const variant = process.env.VARIANT ?? 'app';
const PAGES = Number(process.env.PAGES ?? 2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
try {
  const { url } = await (await fetch(base + '/api/meetings', { method: 'POST' })).json();
  const pages = [];
  for (let i = 0; i < PAGES; i++) {
    const page = await (await browser.newContext()).newPage();
    await page.goto(base + url);
    await page.locator('#your-name, #name').first().fill('P' + i);
    await page.waitForFunction(() => document.querySelector('video')?.readyState >= 2);
    pages.push(page);
  }
  for (const settled of pages.slice(0, -1)) {
    await settled.getByRole('button', { name: 'Join' }).click();
    await settled.waitForTimeout(1500);  // settled: their joins are not in the profile
  }

  const page = pages.at(-1);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
  const firstFrame = () => page.waitForFunction((others) => {
    const tiles = [...document.querySelectorAll('video[data-peer]')];
    return tiles.length >= others && tiles.every((v) => v.getVideoPlaybackQuality().totalVideoFrames > 0);
  }, PAGES - 1, { polling: 20, timeout: 60000 });
  const steady = Boolean(process.env.STEADY);
  if (steady) {
    await page.getByRole('button', { name: 'Join' }).click();
    await firstFrame();
    await page.waitForTimeout(4000);
  }
  const tracing = await browser.newBrowserCDPSession();
  const events = [];
  tracing.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const traced = new Promise((resolve) => tracing.on('Tracing.tracingComplete', resolve));
  await tracing.send('Tracing.start', {
    traceConfig: { includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'webrtc', 'toplevel', 'v8'] },
    transferMode: 'ReportEvents',
  });
  await cdp.send('Profiler.start');
  const clicked = Date.now();
  if (steady) await page.waitForTimeout(5000);
  else {
    await page.getByRole('button', { name: 'Join' }).click();
    await firstFrame();
  }
  const took = Date.now() - clicked;
  const { profile } = await cdp.send('Profiler.stop');
  await tracing.send('Tracing.end');
  await traced;
  writeFileSync(`/tmp/join-profile.${variant}.cpuprofile`, JSON.stringify(profile));
  writeFileSync(`/tmp/join-profile.${variant}.trace.json`, JSON.stringify(events));

  console.log(steady ? `${variant}: ${took} ms of the settled call` : `${variant}: "Join" to video from all ${PAGES - 1} others ${took} ms`);
  console.log('\nmain threads of all pages, busy ms by event (count):');
  for (const [name, [ms, n]] of mainThreadEvents(events).slice(0, 30)) console.log(ms.toFixed(1).padStart(8), String(n).padStart(5), name);
  console.log('\nthe joining page\'s JS, inclusive ms:');
  for (const [name, ms] of inclusiveTimes(profile).slice(0, 25)) console.log(ms.toFixed(1).padStart(8), name);
} finally {
  await browser.close();
}

// Busy time of the renderers' main threads per kind of trace event.
function mainThreadEvents(events) {
  const threads = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threads.set(`${e.pid}/${e.tid}`, e.args.name);
  const kinds = /^(FunctionCall|TimerFire|EventDispatch|UpdateLayoutTree|Layout|Paint|PrePaint|Layerize|Commit|RTCPeerConnectionHandler::\w+|RtpSenderProxy::\w+|DataChannelProxy::\w+|IntersectionObserverController::computeIntersections|MinorGC|MajorGC|SVGImage::DataChanged|BlinkScheduler_PerformMicrotaskCheckpoint)$/;
  const total = new Map();
  for (const e of events) {
    if (e.ph !== 'X' || !e.dur || threads.get(`${e.pid}/${e.tid}`) !== 'CrRendererMain' || !kinds.test(e.name)) continue;
    const d = e.args?.data ?? {};
    const name = [e.name, d.functionName, d.url && String(d.url).split('/').pop().replace(/\.[0-9a-f]{10}\./, '.'), d.type].filter(Boolean).join(' ');
    const [ms, n] = total.get(name) ?? [0, 0];
    total.set(name, [ms + e.dur / 1000, n + 1]);
  }
  return [...total].sort((a, b) => b[1][0] - a[1][0]);
}

// Each JS function's samples, its callees' included (wasm and idle left out).
function inclusiveTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const total = new Map();
  for (const [id, ms] of self) {
    const counted = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at).callFrame;
      const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop().replace(/\.[0-9a-f]{10}\./, '.')}:${f.lineNumber + 1}`;
      if (counted.has(name) || /^\((root|program|idle|garbage collector)\)/.test(name) || f.url.includes('.wasm')) continue;
      counted.add(name);
      total.set(name, (total.get(name) ?? 0) + ms);
    }
  }
  return [...total].sort((a, b) => b[1] - a[1]);
}
