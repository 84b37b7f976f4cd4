import { chromium } from 'playwright-core';
const args = ['--headless','--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync','--use-fake-device-for-media-stream','--use-fake-ui-for-media-stream','--allow-loopback-in-peer-connection'];
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args });
const base = 'http://127.0.0.1:8090';
const r = await fetch(base + '/api/meetings', { method: 'POST' }); const { url } = await r.json();
const N = Number(process.env.N ?? 2);
const pages = [];
for (let i = 0; i < N; i++) {
  const c = await browser.newContext(); const p = await c.newPage();
  const name = 'P' + i;
  p.on('console', m => { const t = m.text(); if (process.env.V && t.startsWith('meshmeet')) { const e = JSON.parse(t.slice(9)); if (e.machine === 'peer-negotiation' || e.machine==='mesh') console.log(name, e.subject.slice(0,4), e.from, '->', e.to, e.detail); } });
  p.on('pageerror', e => console.log(name, 'ERR', e.message));
  await p.goto(base + url + '?debug'); await p.getByLabel('Your name').fill(name);
  pages.push(p);
}
if (process.env.SEQ) { for (const p of pages) { await p.getByRole('button', { name: 'Join' }).click(); await p.waitForSelector('#meeting-view:not([hidden])'); } } else await Promise.all(pages.map(p => p.getByRole('button', { name: 'Join' }).click()));
await pages[0].waitForTimeout(Number(process.env.WAIT ?? 4000));
for (const p of pages) console.log('frames', JSON.stringify(await p.evaluate(() => [...document.querySelectorAll('video[data-peer]')].map(v => v.getVideoPlaybackQuality().totalVideoFrames))));
await browser.close();
