// Before and around the meeting, in Debian Chromium, through the UI only:
// the device pickers and the name remembered on this device, "Copy link",
// "Leave", a camera that is blocked, no camera or microphone at all, a
// Chinese browser and the language switch, a phone-sized screen, and a
// server that cannot be reached. One person (the host) stays in the meeting
// throughout; the others come and go.
//
//   node --test --test-concurrency=1 tests/browser/lobby.test.mjs

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchChromium, newChromiumParticipant, joinViaUi, clickButton, fillLabelled, buttonVisible,
  waitForVisibleText, waitForDecoding, remoteTiles, screenshot, waitFor, sleep, createMeetingApi, cleanup, CHINESE,
} from './harness.mjs';

const TEST = { timeout: 120000 };

/**
 * Makes this participant's browser refuse the camera and/or microphone the
 * way a real one does: 'denied' (the person blocked it: NotAllowedError) or
 * 'absent' (no such device: NotFoundError, and not listed).
 */
async function withoutMedia(p, { camera, microphone }) {
  await p.context.addInitScript(({ camera, microphone }) => {
    const media = navigator.mediaDevices;
    const getUserMedia = media.getUserMedia.bind(media);
    const enumerateDevices = media.enumerateDevices.bind(media);
    const refusal = (how) => how === 'denied'
      ? new DOMException('Permission denied', 'NotAllowedError')
      : new DOMException('Requested device not found', 'NotFoundError');
    media.getUserMedia = async (constraints = {}) => {
      if (constraints.video && camera) throw refusal(camera);
      if (constraints.audio && microphone) throw refusal(microphone);
      return getUserMedia(constraints);
    };
    media.enumerateDevices = async () => (await enumerateDevices()).filter((d) =>
      !(d.kind === 'videoinput' && camera === 'absent') && !(d.kind === 'audioinput' && microphone === 'absent'));
  }, { camera, microphone });
}

/**
 * Makes this participant's pages keep hold of every camera and microphone
 * track they open (window.__tracks); window.__slowMs makes each
 * getUserMedia take that much longer.
 */
async function keepTracks(p) {
  await p.context.addInitScript(() => {
    window.__tracks = [];
    window.__slowMs = 0;
    const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = async (constraints) => {
      const stream = await getUserMedia(constraints);
      window.__tracks.push(...stream.getTracks());
      await new Promise((resolve) => setTimeout(resolve, window.__slowMs));
      return stream;
    };
  });
}

/** The camera and microphone tracks the page opened that are still live. */
async function liveTracks(p) {
  return p.page.evaluate(() => window.__tracks.filter((t) => t.readyState === 'live').map((t) => `${t.kind} ${t.id}`).sort());
}

/** Whether the button named `name` is shown but cannot be pressed. */
async function buttonDisabled(p, name) {
  return p.page.getByRole('button', { name, exact: true }).isDisabled();
}

/** The host's tile for `name`: what remoteTiles() tells, plus whether audio arrives on it. */
async function tileOn(p, name) {
  const tile = (await remoteTiles(p)).find((x) => x.name === name);
  if (!tile) return null;
  tile.liveAudio = await p.page.evaluate((peer) => {
    const video = document.querySelector(`video[data-peer="${peer}"]`);
    return !!video?.srcObject?.getAudioTracks().some((t) => t.readyState === 'live');
  }, tile.peer);
  return tile;
}

describe('before and around the meeting (Chromium)', () => {
  let srv;
  let browser;
  let url;
  let host;

  before(async () => {
    srv = await startServer();
    browser = await launchChromium();
    url = `${srv.url}/m/${(await createMeetingApi(srv, 'Lobby checks')).id}`;
    host = await newChromiumParticipant(browser, 'Host');
    await joinViaUi(host, url, 'Host');
  });
  after(cleanup);

  /** Waits until the host no longer shows `name`'s tile. */
  async function hostLoses(name) {
    await waitFor(async () => !(await tileOn(host, name)), 5000, `the host to drop ${name}'s tile`);
  }

  it('the lobby lists cameras and microphones; the name and the chosen microphone are remembered on this device', TEST, async () => {
    const pat = await newChromiumParticipant(browser, 'Pat');
    const { page } = pat;
    await page.goto(url);
    await waitFor(() => buttonVisible(pat, 'Join'), 10000, 'the lobby');
    const options = (label) => page.getByLabel(label, { exact: true }).evaluate((s) => [...s.options].map((o) => ({ value: o.value, text: o.textContent })));
    await waitFor(async () => (await options('Camera')).length > 0 && (await options('Microphone')).length > 0, 10000, 'both pickers to list devices');
    const microphones = await options('Microphone');
    assert.ok(microphones.every((o) => o.text.trim()), 'every microphone has a name to pick it by');
    // Chromium's fake devices include several microphones: pick another one.
    const previewMic = () => page.evaluate(() => document.getElementById('preview').srcObject?.getAudioTracks()[0]?.getSettings().deviceId ?? null);
    const chosen = microphones.find((o) => o.value !== 'default' && o.value !== 'communications') ?? microphones.at(-1);
    await page.getByLabel('Microphone', { exact: true }).selectOption(chosen.value);
    await waitFor(async () => (await previewMic()) === chosen.value, 5000, `the preview to use "${chosen.text}"`);

    await joinViaUi(pat, null, 'Pat');
    await waitFor(async () => !!(await tileOn(host, 'Pat')), 10000, 'the host to show Pat');
    await clickButton(pat, 'Leave');
    await waitForVisibleText(pat, 'You left the meeting');
    await hostLoses('Pat');

    // Next visit, same device: the name and the microphone are as Pat left them.
    await page.goto(url);
    await waitFor(() => buttonVisible(pat, 'Join'), 10000, 'the lobby again');
    assert.equal(await page.getByLabel('Your name', { exact: true }).inputValue(), 'Pat', 'the name is filled in');
    await waitFor(async () => (await previewMic()) === chosen.value, 5000, 'the preview to use the chosen microphone again');
    // The pickers are filled once the browser has listed the devices, just after the preview opens.
    let shown;
    await waitFor(async () => (shown = await page.getByLabel('Microphone', { exact: true }).inputValue()) === chosen.value, 5000,
      'the picker to show it', { describe: () => `the picker shows "${shown}"` });
    await pat.close();
  });

  it('a microphone picked just before "Join", still opening: the meeting sends it, and nothing else stays open', TEST, async () => {
    const quick = await newChromiumParticipant(browser, 'Quick');
    const { page } = quick;
    await keepTracks(quick);
    await page.goto(url);
    await waitFor(() => page.evaluate(() => !!document.getElementById('preview').srcObject), 10000, 'the first preview');
    const microphones = await page.getByLabel('Microphone', { exact: true }).evaluate((s) => [...s.options].map((o) => o.value));
    const chosen = microphones.find((v) => v !== 'default' && v !== 'communications') ?? microphones.at(-1);
    await fillLabelled(quick, 'Your name', 'Quick');
    // The new microphone takes 1.5 s to open; "Join" is pressed at once.
    await page.evaluate(() => { window.__slowMs = 1500; });
    await page.getByLabel('Microphone', { exact: true }).selectOption(chosen);
    await clickButton(quick, 'Join');
    await waitFor(() => buttonVisible(quick, 'Leave'), 15000, 'Quick in the meeting');

    let seen = null;
    await waitFor(async () => {
      seen = await tileOn(host, 'Quick');
      return seen?.videoShown && !seen.avatarShown && seen.liveAudio;
    }, 15000, 'the host to see and hear Quick', { describe: () => JSON.stringify(seen) });
    await sleep(1000);  // longer than any stream still opening
    const open = await page.evaluate(() => {
      const sent = document.getElementById('self-video').srcObject?.getTracks() ?? [];
      return { sent: sent.map((t) => `${t.kind} ${t.id}`).sort(), microphone: sent.find((t) => t.kind === 'audio')?.getSettings().deviceId };
    });
    assert.deepEqual(await liveTracks(quick), open.sent, 'the only camera and microphone open are the ones the meeting sends');
    assert.equal(open.microphone, chosen, 'with the microphone picked last');
    await clickButton(quick, 'Leave');
    await hostLoses('Quick');
    await quick.close();
  });

  it('"Join" shows "Joining…" in a frame drawn before the join\'s first steps run (on a busy machine they hold the page)', TEST, async () => {
    const eager = await newChromiumParticipant(browser, 'Eager');
    const { page } = eager;
    // When the page opens its socket (one of the join's first steps), and
    // every frame it draws, with what the button said then.
    await eager.context.addInitScript(() => {
      const Native = window.WebSocket;
      window.__socketAt = null;
      window.WebSocket = class extends Native {
        constructor(...args) {
          window.__socketAt ??= performance.now();
          super(...args);
        }
      };
      window.__frames = [];
      window.__clickedAt = null;
      addEventListener('click', (e) => { if (e.target.closest?.('#join-button')) window.__clickedAt = performance.now(); }, true);
      const note = () => {
        const button = document.getElementById('join-button');
        if (button) window.__frames.push([performance.now(), button.textContent]);
        requestAnimationFrame(note);
      };
      requestAnimationFrame(note);
    });
    await page.goto(url);
    await waitFor(() => buttonVisible(eager, 'Join'), 10000, 'the lobby');
    await fillLabelled(eager, 'Your name', 'Eager');
    await waitFor(() => page.evaluate(() => document.getElementById('preview').readyState >= 2), 10000, 'the camera preview');
    await clickButton(eager, 'Join');
    await waitFor(() => buttonVisible(eager, 'Leave'), 15000, 'Eager in the meeting');
    const { clickedAt, socketAt, frames } = await page.evaluate(() => ({ clickedAt: window.__clickedAt, socketAt: window.__socketAt, frames: window.__frames }));
    assert.ok(clickedAt !== null && socketAt !== null, `the click (${clickedAt}) and the socket (${socketAt}) were both seen`);
    const [at, text] = frames.find(([time]) => time > clickedAt) ?? [];
    assert.ok(at < socketAt, `the first frame after the click came ${Math.round(at - clickedAt)} ms after it, the socket ${Math.round(socketAt - clickedAt)} ms`);
    assert.equal(text, 'Joining…', 'and it says so');
    await clickButton(eager, 'Leave');
    await hostLoses('Eager');
    await eager.close();
  });

  it('Back after "New meeting": the home page again, the camera off; Forward, "Join", Back: the meeting is left', TEST, async () => {
    const kim = await newChromiumParticipant(browser, 'Kim');
    const { page } = kim;
    await keepTracks(kim);
    await page.goto(`${srv.url}/`);
    await clickButton(kim, 'New meeting');
    await waitFor(() => buttonVisible(kim, 'Join'), 10000, 'the lobby of the new meeting');
    const meetingPath = new URL(page.url()).pathname;
    await waitFor(async () => (await liveTracks(kim)).length > 0, 10000, 'the camera preview');

    await page.goBack();
    await waitFor(() => buttonVisible(kim, 'New meeting'), 5000, 'the home page after Back');
    assert.equal(new URL(page.url()).pathname, '/');
    assert.equal(await buttonVisible(kim, 'Join'), false, 'the lobby is gone');
    await waitFor(async () => (await liveTracks(kim)).length === 0, 3000, 'the camera and microphone to stop', { describe: () => 'still live' });

    await page.goForward();
    await waitFor(() => buttonVisible(kim, 'Join'), 10000, 'the lobby again after Forward');
    assert.equal(new URL(page.url()).pathname, meetingPath);
    await joinViaUi(kim, null, 'Kim');
    const participants = async () => (await (await fetch(`${srv.url}/api${meetingPath.replace(/^\/m\//, '/meetings/')}`)).json()).participants;
    assert.equal(await participants(), 1, 'Kim is in the meeting');

    await page.goBack();
    await waitFor(() => buttonVisible(kim, 'New meeting'), 5000, 'the home page after Back from the meeting');
    assert.equal(await buttonVisible(kim, 'Leave'), false, 'the meeting is gone from the page');
    // Left as "Leave" leaves: the server is told at once (a vanished
    // page would stay listed until its connection timed out).
    await waitFor(async () => (await participants()) === 0, 2000, 'the server to count Kim out');
    await waitFor(async () => (await liveTracks(kim)).length === 0, 3000, 'the camera and microphone to stop', { describe: () => 'still live' });
    await kim.close();
  });

  it('"Copy link" puts the meeting address on the clipboard, in the lobby and in the meeting', TEST, async () => {
    const cy = await newChromiumParticipant(browser, 'Cy', { context: { permissions: ['clipboard-read', 'clipboard-write'] } });
    const clipboard = () => cy.page.evaluate(() => navigator.clipboard.readText());
    await cy.page.goto(url);
    await clickButton(cy, 'Copy link');
    await waitForVisibleText(cy, 'Link copied');
    assert.equal(await clipboard(), url);

    await joinViaUi(cy, null, 'Cy');
    await cy.page.evaluate(() => navigator.clipboard.writeText(''));
    await clickButton(cy, 'Copy link');
    await waitFor(async () => (await clipboard()) === url, 3000, 'the clipboard to hold the meeting address');
    await clickButton(cy, 'Leave');
    await hostLoses('Cy');
    await cy.close();
  });

  it('a blocked camera: the person is told, joins with the microphone, and the others hear them and see their avatar', TEST, async () => {
    const cam = await newChromiumParticipant(browser, 'Cam');
    await withoutMedia(cam, { camera: 'denied' });
    await cam.page.goto(url);
    await waitForVisibleText(cam, 'The camera is blocked: you will join with your microphone only');
    await joinViaUi(cam, null, 'Cam');
    assert.ok(await buttonDisabled(cam, 'Camera on'), 'no camera to turn on');
    assert.equal(await buttonDisabled(cam, 'Mute'), false, 'the microphone works');

    let seen = null;
    await waitFor(async () => {
      seen = await tileOn(host, 'Cam');
      return seen?.avatarShown && seen.liveAudio && !seen.micOffShown;
    }, 15000, 'the host to show Cam\'s avatar and receive Cam\'s audio', { describe: () => JSON.stringify(seen) });
    // Cam still sees the host.
    await waitForDecoding([cam], 1, { timeout: 15000 });
    await clickButton(cam, 'Leave');
    await hostLoses('Cam');
    await cam.close();
  });

  it('no camera or microphone at all: the person joins to watch and listen, shown muted with no video', TEST, async () => {
    // Both blocked: said in the lobby, and "Join" still works.
    const blocked = await newChromiumParticipant(browser, 'Blocked');
    await withoutMedia(blocked, { camera: 'denied', microphone: 'denied' });
    await blocked.page.goto(url);
    await waitForVisibleText(blocked, 'Camera and microphone are blocked. You can still join and listen');
    await blocked.close();

    const watcher = await newChromiumParticipant(browser, 'Watcher');
    await withoutMedia(watcher, { camera: 'absent', microphone: 'absent' });
    await watcher.page.goto(url);
    await waitForVisibleText(watcher, 'No camera or microphone found. You can still join and listen');
    assert.ok(await watcher.page.getByLabel('Camera', { exact: true }).isDisabled(), 'no camera to pick');
    await joinViaUi(watcher, null, 'Watcher');
    assert.ok(await buttonDisabled(watcher, 'Unmute'), 'the microphone is off and cannot be turned on');
    assert.ok(await buttonDisabled(watcher, 'Camera on'), 'the camera is off and cannot be turned on');

    let seen = null;
    await waitFor(async () => {
      seen = await tileOn(host, 'Watcher');
      return seen?.avatarShown && seen.micOffShown;
    }, 15000, 'the host to show Watcher with an avatar and the microphone-off mark', { describe: () => JSON.stringify(seen) });
    // Sending nothing, the watcher still receives the host's video.
    await waitForDecoding([watcher], 1, { timeout: 15000 });
    await clickButton(watcher, 'Leave');
    await hostLoses('Watcher');
    await watcher.close();
  });

  it('someone who gives no name is "Guest" to the others, in their language, and so is their "Verify" button', TEST, async () => {
    const anon = await newChromiumParticipant(browser, 'Anon');
    await joinViaUi(anon, url, '');
    await waitFor(async () => !!(await tileOn(host, 'Guest')), 10000, 'the host to show a tile named "Guest"');
    assert.ok(await buttonVisible(host, 'Verify Guest'), 'the host\'s button to verify them is "Verify Guest"');
    const language = host.page.getByLabel('Language', { exact: true });
    await language.selectOption('zh');
    try {
      await waitFor(async () => !!(await tileOn(host, '访客')), 3000, 'the tile to read "访客" in Chinese');
      assert.ok(await buttonVisible(host, '验证 访客'), 'the button names them as the tile does, in Chinese');
    } finally {
      await host.page.getByLabel('语言', { exact: true }).selectOption('en');
    }
    await clickButton(anon, 'Leave');
    await hostLoses('Guest');
    await anon.close();
  });

  it('"Verify" before the code has arrived says it is waiting for it; the code takes its place', TEST, async () => {
    const slow = await newChromiumParticipant(browser, 'Slow');
    // Slow's page holds back what it sends over data channels (the
    // verification exchange with it) until released.
    await slow.context.addInitScript(() => {
      const send = RTCDataChannel.prototype.send;
      const held = [];
      window.__hold = true;
      RTCDataChannel.prototype.send = function (data) {
        if (window.__hold) held.push([this, data]);
        else send.call(this, data);
      };
      window.__release = () => {
        window.__hold = false;
        for (const [channel, data] of held.splice(0)) if (channel.readyState === 'open') send.call(channel, data);
      };
    });
    await joinViaUi(slow, url, 'Slow');
    await waitFor(async () => !!(await tileOn(host, 'Slow')), 10000, 'the host to show Slow');
    const codeShown = () => host.page.evaluate(() => {
      const tile = [...document.querySelectorAll('[data-tile]')].find((t) => t.querySelector('.name')?.textContent === 'Slow');
      const code = tile?.querySelector('.code');
      return code?.checkVisibility() ? code.textContent : null;
    });
    await clickButton(host, 'Verify Slow');
    let box = null;
    await waitFor(async () => (box = await codeShown()) === 'Waiting for the code…', 3000, 'the host to say it is waiting for the code',
      { describe: () => `the box shows ${JSON.stringify(box)}` });
    await sleep(1000);
    assert.equal(await codeShown(), 'Waiting for the code…', 'still waiting while Slow holds its messages back');
    await slow.page.evaluate(() => window.__release());
    await waitFor(async () => /^\d{3} \d{3}$/.test((await codeShown()) ?? ''), 10000, 'the code in its place');
    await clickButton(slow, 'Leave');
    await hostLoses('Slow');
    await slow.close();
  });

  it('the home page opens a meeting from a pasted link, and says when the text is not one', TEST, async () => {
    const visitor = await newChromiumParticipant(browser, 'Visitor');
    await visitor.page.goto(`${srv.url}/`);
    await fillLabelled(visitor, 'Meeting link or code', 'see you at 3');
    await clickButton(visitor, 'Open meeting');
    await waitForVisibleText(visitor, 'That is not a meeting link');
    await fillLabelled(visitor, 'Meeting link or code', ` ${url}?from=chat `);
    await clickButton(visitor, 'Open meeting');
    await waitFor(() => buttonVisible(visitor, 'Join'), 10000, 'the lobby of the pasted meeting');
    assert.equal(visitor.page.url(), url);
    assert.equal(await visitor.page.getByRole('heading', { name: 'Lobby checks' }).count(), 1);
    await visitor.close();
  });

  it('a Chinese browser gets the page in Chinese, accessible names too; the language can be switched', TEST, async () => {
    const ming = await newChromiumParticipant(browser, '小明', { context: { locale: 'zh-CN' } });
    const { page } = ming;
    await page.goto(`${srv.url}/`);
    await waitForVisibleText(ming, '面对面开会');
    await waitForVisibleText(ming, '新建会议');
    assert.ok(await buttonVisible(ming, '新建会议'), 'a screen reader reads the button as it is shown');
    assert.equal(await buttonVisible(ming, 'New meeting'), false);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');

    await page.goto(url);
    await waitForVisibleText(ming, '已有 1 人在会议中');
    await page.getByLabel('语言', { exact: true }).selectOption('en');
    await waitForVisibleText(ming, '1 person is here.');
    await waitForVisibleText(ming, 'Your name');
    assert.ok(await buttonVisible(ming, 'Join'), 'the names follow the switch');
    await page.getByLabel('Language', { exact: true }).selectOption('zh');
    await waitForVisibleText(ming, '已有 1 人在会议中');

    await joinViaUi(ming, null, '小明', { words: CHINESE });
    await waitForVisibleText(ming, '小明（你）');
    await waitForVisibleText(ming, '静音');  // the "Mute" button's text
    assert.ok(await buttonVisible(ming, '静音'), 'its accessible name is its text');
    await waitFor(async () => !!(await tileOn(host, '小明')), 10000, 'the host to show 小明');
    await page.getByLabel('语言', { exact: true }).selectOption('en');
    await waitForVisibleText(ming, '小明 (You)');
    assert.ok(await buttonVisible(ming, 'Mute'), 'and in English once switched');
    await clickButton(ming, 'Leave');
    await hostLoses('小明');
    // The choice is remembered on this device: the next visit is in English.
    await page.goto(`${srv.url}/`);
    await waitForVisibleText(ming, 'Meet face to face');
    await ming.close();
  });

  it('a phone-sized screen: the meeting fits, every control can be reached, chat opens over the tiles', TEST, async () => {
    const other = await newChromiumParticipant(browser, 'Desk');
    await joinViaUi(other, url, 'Desk');
    const phone = await newChromiumParticipant(browser, 'Phone', {
      viewport: { width: 390, height: 844 },
      context: { isMobile: true, hasTouch: true },
    });
    await joinViaUi(phone, url, 'Phone');
    await waitForDecoding([phone], 2, { timeout: 20000 });

    const layout = () => phone.page.evaluate(() => {
      const box = (el) => { const r = el.getBoundingClientRect(); return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, height: r.height }; };
      return {
        width: innerWidth,
        height: innerHeight,
        scrollWidth: document.documentElement.scrollWidth,
        controls: [...document.querySelectorAll('.controls button')].map((b) => ({ name: b.getAttribute('aria-label'), ...box(b) })),
        tiles: [...document.querySelectorAll('#grid .tile')].map(box),
        chat: document.getElementById('chat-panel').checkVisibility() ? box(document.getElementById('chat-input')) : null,
      };
    });
    const inside = (r, l) => r.left >= 0 && r.top >= 0 && r.right <= l.width + 0.5 && r.bottom <= l.height + 0.5;
    let l = await layout();
    assert.ok(l.scrollWidth <= l.width, `nothing sticks out sideways (${l.scrollWidth} px wide page on a ${l.width} px screen)`);
    for (const c of l.controls) assert.ok(inside(c, l), `"${c.name}" is on screen (${JSON.stringify(c)})`);
    assert.equal(l.tiles.length, 3);
    assert.ok(Math.abs(l.tiles[0].top - l.tiles[1].top) < 1 && l.tiles[2].top > l.tiles[0].bottom - 1,
      `three people share two columns (${JSON.stringify(l.tiles)})`);
    for (const tile of l.tiles) {
      assert.ok(inside(tile, l), `every tile is on screen (${JSON.stringify(tile)})`);
      assert.ok(tile.height >= 150, `every tile is big enough to see a face (${tile.height} px high)`);
    }
    // A 4:3 camera in a tall, narrow tile: filling it would cut off most of
    // the picture (faces at the edges of it); at most a third may go.
    for (const tile of await remoteTiles(phone))
      assert.ok(tile.cut <= 1 / 3, `${tile.name}'s ${tile.width}x${tile.height} camera is on the phone's screen, not cut off (${tile.fit}: ${Math.round(tile.cut * 100)}% cut off)`);
    await screenshot(phone.page, 'phone.png');

    await clickButton(phone, 'Chat');
    l = await layout();
    assert.ok(l.chat && inside(l.chat, l), `the chat box is on screen (${JSON.stringify(l.chat)})`);
    await fillLabelled(phone, 'Chat message', 'typed on a phone');
    await clickButton(phone, 'Send');
    await clickButton(other, 'Chat');
    await waitForVisibleText(other, 'typed on a phone');
    for (const p of [phone, other]) {
      await clickButton(p, 'Leave');
      await p.close();
    }
    await hostLoses('Phone');
  });

  // Last: it stops the server.
  it('the server cannot be reached: "New meeting" and "Join" say so', TEST, async () => {
    const early = await newChromiumParticipant(browser, 'Early');
    await early.page.goto(url);
    await waitFor(() => buttonVisible(early, 'Join'), 10000, 'the lobby, while the server is up');
    // The lobby loads the client core ahead of "Join" (its content-hashed
    // .wasm): what fails below is the join itself.
    await waitFor(() => early.page.evaluate(() => performance.getEntriesByType('resource').some((e) => /\/meshmeet-core\.[0-9a-f]+\.wasm$/.test(e.name))),
      10000, 'the lobby to have loaded the client core');
    const home = await newChromiumParticipant(browser, 'Home');
    await home.page.goto(`${srv.url}/`);
    await waitFor(() => buttonVisible(home, 'New meeting'), 10000, 'the home page, while the server is up');
    await srv.stop();

    await clickButton(home, 'New meeting');
    await waitForVisibleText(home, 'The meeting server cannot be reached', 10000);
    assert.equal(await home.page.getByRole('alert').textContent(), 'The meeting server cannot be reached. Check your connection and try again.');

    await fillLabelled(early, 'Your name', 'Early');
    await clickButton(early, 'Join');
    await waitForVisibleText(early, 'The meeting server cannot be reached', 25000);
    assert.ok(await buttonVisible(early, 'Rejoin'), 'a way to try again');
  });
});
