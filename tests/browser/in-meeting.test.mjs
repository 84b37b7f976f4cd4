// What people do in a meeting beyond seeing and hearing each other, in
// Debian Chromium, through the UI and accessible names only: the people
// panel, keyboard shortcuts and their help, raising a hand (lowered by its
// owner or by speaking), reactions, chat (unread count, the newest message
// for a moment, links clickable and safe), pinning a tile and the shared
// screen pinned for the others, full screen, switching camera, microphone
// and speaker mid-meeting, the lobby's microphone level, what a screen reader
// is told, all of it in Simplified Chinese (accessible names too), and a
// crashed tab shown reconnecting. Screenshots go to docs/screenshots/ (lobby,
// people panel, hand and reactions, chat, spotlight, a shared screen pinned,
// full screen, devices, shortcuts, reconnecting).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, launchChromium, newChromiumParticipant, joinViaUi, clickButton, fillLabelled, buttonVisible,
  waitForVisibleText, waitForDecoding, createMeetingApi, screenshot, waitFor, sleep, cleanup, VIEWPORT, peopleShown, openPeoplePanel,
} from './harness.mjs';

const TEST = { timeout: 90000 };

/** The tile a page shows for `name` (null: none): what is on it. */
function tileShown(p, name) {
  return p.page.evaluate((who) => {
    const tile = who === null ? document.getElementById('self-tile')
      : [...document.querySelectorAll('[data-tile]')].find((t) => t.dataset.name === who);
    if (!tile) return null;
    const box = tile.getBoundingClientRect();
    return {
      hand: tile.querySelector('.hand').checkVisibility(),
      reactions: [...tile.querySelectorAll('.reaction-float')].map((r) => r.textContent),
      pinned: tile.classList.contains('pinned'),
      width: box.width,
      height: box.height,
    };
  }, name);
}

const announced = (p) => p.page.evaluate(() => document.getElementById('announcer').textContent);

/** Waits until `what()` of the page holds; the message says what was awaited and what was seen last. */
async function until(p, what, check, describe, timeout = 10000) {
  let last;
  await waitFor(async () => check((last = await what(p))), timeout, `${p.name}: ${describe}`, { every: 150, describe: () => JSON.stringify(last) });
}

describe('in the meeting (Chromium)', () => {
  let srv;
  let browser;
  let meetingUrl;
  const people = {};

  before(async () => {
    srv = await startServer();
    browser = await launchChromium([], { fakeCameras: 3 });
    meetingUrl = `${srv.url}/m/${(await createMeetingApi(srv, 'Design review')).id}`;
  });
  after(cleanup);

  it('the lobby shows the microphone level moving before anyone joins', TEST, async () => {
    const alice = (people.Alice = await newChromiumParticipant(browser, 'Alice', { viewport: VIEWPORT }));
    await alice.page.goto(meetingUrl);
    await waitFor(() => buttonVisible(alice, 'Join'), 10000, 'the lobby');
    const meter = alice.page.getByRole('meter', { name: 'Microphone level' });
    // The lobby settled: its preview playing and its device lists filled.
    await waitFor(() => alice.page.evaluate(() => document.getElementById('preview').readyState >= 2 &&
      document.getElementById('microphone-select').options.length > 0), 10000, 'the preview and the device lists');
    // Chromium's fake microphone beeps twice a second: the meter must move
    // with it (a voice's level, then silence's).
    const levels = [];
    const cdp = await alice.page.context().newCDPSession(alice.page);
    await cdp.send('Performance.enable');
    const layouts = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'LayoutCount').value;
    const layoutsBefore = await layouts();
    await waitFor(async () => {
      levels.push(Number(await meter.getAttribute('aria-valuenow')));
      return levels.some((v) => v >= 0.4) && levels.some((v) => v < 0.2);
    }, 10000, 'the microphone level to move with the beeps', { every: 60, describe: () => levels.slice(-20).join(' ') });
    // Its moves are the compositor's: the still lobby lays nothing out
    // again (a <meter> growing its bar did about 40 layouts a second).
    await alice.page.waitForTimeout(1000);
    const moved = await layouts() - layoutsBefore;
    assert.ok(moved <= 3, `the lobby laid itself out ${moved} times while only the microphone level moved`);
    await cdp.detach();
    await fillLabelled(alice, 'Your name', 'Alice');
    await screenshot(alice, 'lobby.png');
  });

  it('three join; the people panel lists everyone, you first, connected', TEST, async () => {
    await joinViaUi(people.Alice, null, 'Alice');
    for (const name of ['Bob', 'Carol']) {
      people[name] = await newChromiumParticipant(browser, name);
      await joinViaUi(people[name], meetingUrl, name);
    }
    await waitForDecoding(Object.values(people), 2, { timeout: 30000 });
    const { Alice } = people;
    assert.equal(await Alice.page.getByRole('button', { name: 'People' }).getAttribute('aria-description'), '3 people in the meeting');
    await clickButton(Alice, 'People');
    await until(Alice, peopleShown, (list) => list.length === 3 && list.every((x) => x.state === 'Connected'), 'everyone connected in the panel');
    assert.deepEqual((await peopleShown(Alice)).map((x) => x.name), ['Alice (You)', 'Bob', 'Carol']);
    assert.equal(await Alice.page.evaluate(() => document.activeElement?.id), 'people-title', 'focus moves into the panel that opened');
  });

  it('keyboard: M and V turn Bob\'s microphone and camera off, shown in words on the others\' panels; not while typing', TEST, async () => {
    const { Alice, Bob } = people;
    await Bob.page.locator('body').click({ position: { x: 5, y: 5 } });
    await Bob.page.keyboard.press('m');
    await Bob.page.keyboard.press('v');
    assert.equal(await buttonVisible(Bob, 'Unmute'), true, 'M muted Bob');
    assert.equal(await buttonVisible(Bob, 'Camera on'), true, 'V turned Bob\'s camera off');
    await until(Alice, peopleShown, (list) => {
      const bob = list.find((x) => x.name === 'Bob');
      return bob?.marks.includes('Microphone off') && bob.marks.includes('Camera off');
    }, 'Bob shown with "Microphone off" and "Camera off"');
    // C opens the chat; typed into it, the same letters are text.
    await Bob.page.keyboard.press('c');
    await Bob.page.getByLabel('Chat message', { exact: true }).waitFor({ state: 'visible', timeout: 5000 });
    assert.equal(await Bob.page.getByRole('button', { name: 'Chat', exact: true }).getAttribute('aria-expanded'), 'true', 'C opened the chat');
    await Bob.page.getByLabel('Chat message', { exact: true }).pressSequentially('mv');
    assert.equal(await Bob.page.getByLabel('Chat message', { exact: true }).inputValue(), 'mv');
    assert.equal(await buttonVisible(Bob, 'Unmute'), true, 'typing "m" in a field did not unmute');
    await Bob.page.getByLabel('Chat message', { exact: true }).fill('');
    await clickButton(Bob, 'Close chat');
    assert.equal(await Bob.page.evaluate(() => document.activeElement?.id), 'chat-button', 'focus returns to the Chat button');
    await Bob.page.keyboard.press('v');
    assert.equal(await buttonVisible(Bob, 'Camera off'), true, 'V turned the camera back on');
    // P opens the people panel and closes it again.
    const peopleButton = Bob.page.getByRole('button', { name: 'People', exact: true });
    await Bob.page.keyboard.press('p');
    await waitFor(async () => (await peopleButton.getAttribute('aria-expanded')) === 'true' && Bob.page.locator('#people-panel').isVisible(), 5000, 'P opened the people panel');
    await Bob.page.keyboard.press('p');
    await waitFor(async () => (await peopleButton.getAttribute('aria-expanded')) === 'false' && Bob.page.locator('#people-panel').isHidden(), 5000, 'P closed it');
  });

  it('"?" opens the shortcuts help; Tab and shortcuts stay in it; Escape closes it and focus goes back', TEST, async () => {
    const { Alice } = people;
    await Alice.page.getByRole('button', { name: 'Leave' }).focus();
    const microphoneOn = await buttonVisible(Alice, 'Mute');
    await Alice.page.keyboard.press('?');
    const dialog = Alice.page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor({ state: 'visible', timeout: 5000 });
    for (const words of ['Mute or unmute your microphone', 'Raise or lower your hand', 'Open or close the chat'])
      assert.ok(await dialog.getByText(words).isVisible(), `the help lists "${words}"`);
    await screenshot(Alice, 'shortcuts.png');
    // Modal: Tab never reaches the toolbar behind it, and M does not mute.
    for (let i = 0; i < 3; i++) {
      await Alice.page.keyboard.press('Tab');
      const where = await Alice.page.evaluate(() => (document.activeElement === document.body ? 'body'
        : document.activeElement?.closest('#help-dialog') ? 'help' : document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.id));
      assert.ok(where === 'help' || where === 'body', `focus stays in the help (Tab ${i + 1}: ${where})`);
    }
    await Alice.page.keyboard.press('m');
    await Alice.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden', timeout: 5000 });
    assert.equal(await buttonVisible(Alice, 'Mute'), microphoneOn, 'M pressed while the help was open did nothing');
    assert.equal(await Alice.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Leave');
  });

  it('a raised hand shows on the tile and in the people panel of the others, is announced, and lowered by its owner', TEST, async () => {
    const { Alice, Bob, Carol } = people;
    // Chromium's fake microphone beeps, which counts as speaking (and
    // lowers a hand): Carol waits to speak muted.
    await clickButton(Carol, 'Mute');
    await Carol.page.keyboard.press('h');
    await until(Alice, (p) => tileShown(p, 'Carol'), (x) => x?.hand, 'the hand on Carol\'s tile');
    await until(Bob, (p) => tileShown(p, 'Carol'), (x) => x?.hand, 'the hand on Carol\'s tile');
    await until(Alice, peopleShown, (list) => list.find((x) => x.name === 'Carol')?.marks.includes('Hand raised'), 'Carol\'s hand in the panel');
    assert.equal((await peopleShown(Alice))[1].name, 'Carol', 'a raised hand comes first after you');
    await waitForVisibleText(Bob, 'Carol raised their hand');
    assert.equal(await Carol.page.getByRole('button', { name: 'Lower hand' }).getAttribute('aria-pressed'), 'true');
    await sleep(2000);
    assert.ok((await tileShown(Alice, 'Carol')).hand, 'a muted person\'s hand stays up');
    await screenshot(Alice, 'people-panel.png');
    await clickButton(Carol, 'Lower hand');
    await until(Alice, (p) => tileShown(p, 'Carol'), (x) => x && !x.hand, 'Carol\'s hand lowered on Alice\'s page');
    await until(Alice, peopleShown, (list) => !list.find((x) => x.name === 'Carol')?.marks.includes('Hand raised'), 'the panel without Carol\'s hand');
  });

  it('a raised hand comes down when its owner speaks, on every page', TEST, async () => {
    const { Alice, Carol } = people;
    await clickButton(Carol, 'Raise hand');
    await until(Alice, (p) => tileShown(p, 'Carol'), (x) => x?.hand, 'the hand on Carol\'s tile');
    await clickButton(Carol, 'Unmute');  // her microphone beeps: she speaks
    await until(Carol, (p) => tileShown(p, null), (x) => x && !x.hand, 'Carol\'s own hand lowered by her speaking');
    await waitForVisibleText(Carol, 'Your hand was lowered');
    await until(Alice, (p) => tileShown(p, 'Carol'), (x) => x && !x.hand, 'Carol\'s hand lowered on Alice\'s page');
  });

  it('someone joining later sees a hand already up', TEST, async () => {
    const { Bob } = people;
    await clickButton(Bob, 'Raise hand');  // muted (M, above): it stays up
    const dave = (people.Dave = await newChromiumParticipant(browser, 'Dave'));
    await joinViaUi(dave, meetingUrl, 'Dave');
    await until(dave, (p) => tileShown(p, 'Bob'), (x) => x?.hand, 'Bob\'s hand, raised before Dave came');
    await clickButton(Bob, 'Lower hand');
    await dave.close();
    delete people.Dave;
  });

  it('reactions float over the sender\'s tile on every page and are announced', TEST, async () => {
    const { Alice, Bob, Carol } = people;
    await clickButton(Bob, 'React');
    await clickButton(Bob, 'React: celebration');
    await until(Alice, (p) => tileShown(p, 'Bob'), (x) => x?.reactions.includes('🎉'), '🎉 over Bob\'s tile');
    await until(Carol, (p) => tileShown(p, 'Bob'), (x) => x?.reactions.includes('🎉'), '🎉 over Bob\'s tile');
    await until(Bob, (p) => tileShown(p, null), (x) => x?.reactions.includes('🎉'), '🎉 over Bob\'s own tile');
    await until(Alice, announced, (text) => text.includes('Bob reacted: celebration'), 'the reaction announced');
    await clickButton(Carol, 'React');
    await clickButton(Carol, 'React: thumbs up');
    await until(Alice, (p) => tileShown(p, 'Carol'), (x) => x?.reactions.includes('👍'), '👍 over Carol\'s tile');
    // For the picture: a hand (muted: Alice's beeping microphone would
    // lower it), reactions, the panel.
    await clickButton(Alice, 'Mute');
    await clickButton(Alice, 'Raise hand');
    await sleep(300);
    await screenshot(Alice, 'hand-and-reactions.png');
    await clickButton(Alice, 'Lower hand');
    await clickButton(Alice, 'Unmute');
  });

  it('chat: an unread count on "Chat", the newest message shown for a moment, links clickable, HTML shown as text', TEST, async () => {
    const { Alice, Bob } = people;
    await clickButton(Alice, 'People');  // closed: the panels take turns
    const hostile = '<img src=x onerror="document.body.dataset.pwned=1"><b>bold</b>';
    await clickButton(Bob, 'Chat');
    for (const text of ['Slides: https://example.com/deck?page=2.', hostile]) {
      await fillLabelled(Bob, 'Chat message', text);
      await clickButton(Bob, 'Send');
    }
    const chatButton = Alice.page.getByRole('button', { name: 'Chat', exact: true });
    await waitFor(async () => (await chatButton.getAttribute('aria-description')) === '2 unread messages', 10000, 'two unread messages on Alice\'s Chat button');
    assert.equal(await Alice.page.locator('#chat-unread').textContent(), '2');
    await waitForVisibleText(Alice, 'bold');  // the newest message, for a moment, as text
    const peek = Alice.page.getByRole('button', { name: 'Open chat' });
    assert.ok(await peek.isVisible());
    assert.match(await peek.textContent(), /<img src=x/, 'the markup shown as the text it is');
    await screenshot(Alice, 'chat-unread.png');
    await peek.click();
    await waitFor(async () => (await chatButton.getAttribute('aria-description')) === null, 5000, 'opening the chat reads it');
    assert.ok(await Alice.page.locator('#chat-unread').isHidden());
    const link = Alice.page.locator('#chat-log').getByRole('link', { name: 'https://example.com/deck?page=2' });
    assert.equal(await link.getAttribute('href'), 'https://example.com/deck?page=2', 'the sentence\'s full stop is not part of the link');
    assert.equal(await link.getAttribute('target'), '_blank');
    assert.match(await link.getAttribute('rel'), /noopener/);
    assert.equal(await Alice.page.locator('#chat-log img, #chat-log b').count(), 0, 'no element from a peer\'s text');
    assert.equal(await Alice.page.evaluate(() => document.body.dataset.pwned), undefined, 'nothing a peer wrote ran');
    assert.ok((await announced(Alice)).includes('Bob says:'), 'the message announced');
    await clickButton(Alice, 'Close chat');
    await clickButton(Bob, 'Close chat');
  });

  it('pin a tile: the spotlight shows it large; unpin: the grid again', TEST, async () => {
    const { Alice } = people;
    const before = await tileShown(Alice, 'Carol');
    await Alice.page.getByRole('button', { name: 'Pin Carol' }).click();
    await until(Alice, (p) => tileShown(p, 'Carol'), (x) => x?.pinned && x.width > before.width * 1.3, 'Carol\'s tile pinned and larger');
    const bob = await tileShown(Alice, 'Bob');
    assert.ok(bob.width < before.width, `the others are small beside it (${bob.width} < ${before.width})`);
    assert.equal(await Alice.page.getByRole('button', { name: 'Unpin Carol' }).getAttribute('aria-pressed'), 'true');
    await screenshot(Alice, 'spotlight.png');
    await clickButton(Alice, 'Unpin Carol');
    await until(Alice, (p) => tileShown(p, 'Carol'), (x) => x && !x.pinned, 'the grid again');
  });

  it('a shared screen is pinned for everyone else; someone who unpins it keeps it unpinned; it goes when sharing stops', TEST, async () => {
    const { Alice, Bob, Carol } = people;
    await clickButton(Bob, 'Share screen');
    await until(Alice, (p) => tileShown(p, 'Bob'), (x) => x?.pinned, 'Bob\'s screen pinned');
    await until(Carol, (p) => tileShown(p, 'Bob'), (x) => x?.pinned, 'Bob\'s screen pinned');
    assert.equal((await tileShown(Bob, null)).pinned, false, 'the sharer\'s own page keeps its grid');
    await screenshot(Alice, 'screen-pinned.png');
    await clickButton(Carol, 'Unpin Bob');
    await sleep(1500);
    assert.equal((await tileShown(Carol, 'Bob')).pinned, false, 'Carol\'s choice holds');
    await clickButton(Bob, 'Stop sharing');
    await until(Alice, (p) => tileShown(p, 'Bob'), (x) => x && !x.pinned, 'unpinned when the sharing stopped');
  });

  it('full screen: a tile fills the screen, and leaves it again', TEST, async () => {
    const { Alice } = people;
    await Alice.page.getByRole('button', { name: 'Full screen Carol' }).click();
    await waitFor(() => Alice.page.evaluate(() => document.fullscreenElement?.dataset.name === 'Carol'), 5000, 'Carol\'s tile in full screen');
    await screenshot(Alice, 'full-screen.png');
    await Alice.page.getByRole('button', { name: 'Full screen Carol' }).click();
    await waitFor(() => Alice.page.evaluate(() => document.fullscreenElement === null), 5000, 'full screen left');
  });

  it('devices: another camera while the camera is off stays off; another microphone and speaker, no rejoin', TEST, async () => {
    const { Alice, Bob } = people;
    const videoLabel = () => Bob.page.evaluate(() => document.getElementById('self-video').srcObject?.getVideoTracks()[0]?.label);
    const first = await videoLabel();
    await clickButton(Bob, 'Camera off');
    await openPeoplePanel(Alice);
    await until(Alice, peopleShown, (list) => list.find((x) => x.name === 'Bob')?.marks.includes('Camera off'), 'Bob\'s camera off on Alice\'s panel');
    await clickButton(Bob, 'Devices');
    const camera = Bob.page.getByLabel('Switch camera', { exact: true });
    await waitFor(async () => (await camera.locator('option').count()) === 3, 5000, 'every fake camera offered');
    await screenshot(Bob, 'devices.png');
    // Chromium's second fake camera gives 16-bit depth frames, which no
    // encoder takes; the third gives MJPEG, as many webcams do.
    assert.equal(await camera.locator('option:checked').textContent(), 'fake_device_0');
    await camera.selectOption({ label: 'fake_device_2' });
    await waitFor(async () => (await videoLabel()) !== first, 10000, 'Bob\'s page on the other camera');
    assert.equal(await buttonVisible(Bob, 'Camera on'), true, 'the camera is still off');
    assert.equal(await Bob.page.evaluate(() => document.getElementById('self-video').srcObject.getVideoTracks()[0].enabled), false, 'and its new track sends nothing');
    await sleep(1000);
    assert.ok((await peopleShown(Alice)).find((x) => x.name === 'Bob').marks.includes('Camera off'), 'the others still see it off');
    await clickButton(Alice, 'Close people');
    await Bob.page.keyboard.press('Escape');
    assert.ok(await Bob.page.locator('#devices-menu').isHidden(), 'Escape closes the menu');
    assert.equal(await Bob.page.evaluate(() => document.activeElement?.id), 'devices-button', 'and focus is back on its button');
    await clickButton(Bob, 'Camera on');
    await waitForDecoding([Alice], 2, { timeout: 20000 });
    // Another microphone, and another speaker for the others' voices.
    await clickButton(Bob, 'Devices');
    const microphone = Bob.page.getByLabel('Switch microphone', { exact: true });
    const mics = await microphone.locator('option').evaluateAll((os) => os.map((o) => o.value));
    const micBefore = await microphone.inputValue();
    await microphone.selectOption(mics.find((v) => v !== micBefore));
    await waitFor(() => Bob.page.evaluate((before) => document.getElementById('self-video').srcObject.getAudioTracks()[0]?.getSettings().deviceId !== before, micBefore),
      10000, 'Bob sending the other microphone');
    const speaker = Bob.page.getByLabel('Switch speaker', { exact: true });
    const speakers = await speaker.locator('option').evaluateAll((os) => os.map((o) => o.value));
    const other = speakers.find((v) => v !== 'default');
    await speaker.selectOption(other);
    await waitFor(() => Bob.page.evaluate((id) => [...document.querySelectorAll('[data-tile] video')].every((v) => v.sinkId === id), other), 5000, 'every tile playing on the other speaker');
    await Bob.page.locator('#grid').click({ position: { x: 5, y: 5 } });
    assert.ok(await Bob.page.locator('#devices-menu').isHidden(), 'a click elsewhere closes the menu');
  });

  it('joins and leaves reach a screen reader through the live region', TEST, async () => {
    const { Alice } = people;
    const erin = await newChromiumParticipant(browser, 'Erin');
    try {
      await joinViaUi(erin, meetingUrl, 'Erin');
      await until(Alice, announced, (text) => text.includes('Erin joined'), 'Erin\'s arrival announced');
      assert.equal(await Alice.page.locator('#announcer').getAttribute('aria-live'), 'polite');
      // Leaving as a person does, so the next tests see three people again
      // (a closed context would leave Erin "reconnecting" for the resume grace).
      await clickButton(erin, 'Leave');
      await waitForVisibleText(Alice, 'Erin left');  // the toast, itself a live region
      await openPeoplePanel(Alice);
      await until(Alice, peopleShown, (list) => !list.some((x) => x.name === 'Erin'), 'Erin gone from the people panel');
      await clickButton(Alice, 'Close people');
    } finally {
      await erin.close();
    }
  });

  it('in Simplified Chinese: the people panel, the hand, chat, reactions, pinning and the shortcuts help, accessible names included', TEST, async () => {
    const { Alice, Carol } = people;
    await Alice.page.getByLabel('Language', { exact: true }).selectOption('zh');
    await clickButton(Carol, 'Mute');
    await clickButton(Carol, 'Raise hand');
    await clickButton(Alice, '参会者');  // "People": a screen reader reads the language the page shows
    await until(Alice, peopleShown, (list) => list[0]?.name === 'Alice（你）' && list.find((x) => x.name === 'Carol')?.marks.includes('已举手'),
      'the panel in Chinese with Carol\'s hand');
    const shown = await peopleShown(Alice);
    assert.ok(shown.every((x) => x.state === '已连接'), `everyone 已连接: ${JSON.stringify(shown)}`);
    await waitForVisibleText(Alice, 'Carol 举手了');
    await screenshot(Alice, 'people-panel-zh.png');
    await clickButton(Alice, '关闭参会者列表');
    await clickButton(Carol, 'Lower hand');

    // Chat: the unread count and the newest message, in Chinese.
    await clickButton(Carol, 'Chat');
    await fillLabelled(Carol, 'Chat message', '大家好');
    await clickButton(Carol, 'Send');
    await clickButton(Carol, 'Close chat');
    const chatButton = Alice.page.getByRole('button', { name: '聊天', exact: true });
    await waitFor(async () => (await chatButton.getAttribute('aria-description')) === '1 条未读消息', 10000, 'one unread message on Alice\'s 聊天 button');
    // The page switched to English and back while the message is unread: the description follows.
    await Alice.page.getByLabel('语言', { exact: true }).selectOption('en');
    assert.equal(await Alice.page.getByRole('button', { name: 'Chat', exact: true }).getAttribute('aria-description'), '1 unread message');
    await Alice.page.getByLabel('Language', { exact: true }).selectOption('zh');
    assert.equal(await chatButton.getAttribute('aria-description'), '1 条未读消息');
    await Alice.page.getByRole('button', { name: '打开聊天' }).click();
    await waitForVisibleText(Alice, '大家好');
    await until(Alice, announced, (text) => text.includes('Carol 说：大家好'), 'the message announced in Chinese');
    await clickButton(Alice, '关闭聊天');

    // A reaction, named and announced in Chinese.
    await clickButton(Carol, 'React');
    await clickButton(Carol, 'React: heart');
    await until(Alice, announced, (text) => text.includes('Carol 发送了表情：爱心'), 'the reaction announced in Chinese');
    assert.ok(await Alice.page.getByRole('img', { name: '爱心' }).count() >= 1, 'the floating heart is named in Chinese');

    // Pin, by the Chinese name of the button.
    await Alice.page.getByRole('button', { name: '固定 Carol', exact: true }).click();
    await until(Alice, (p) => tileShown(p, 'Carol'), (x) => x?.pinned, 'Carol\'s tile pinned');
    assert.equal(await Alice.page.getByRole('button', { name: '取消固定 Carol' }).getAttribute('aria-pressed'), 'true');
    await clickButton(Alice, '取消固定 Carol');
    assert.equal(await Alice.page.getByRole('button', { name: '全屏 Carol' }).count(), 1, 'full screen named in Chinese too');

    await Alice.page.keyboard.press('?');
    const dialog = Alice.page.getByRole('dialog', { name: '键盘快捷键' });
    await dialog.waitFor({ state: 'visible', timeout: 5000 });
    assert.ok(await dialog.getByRole('button', { name: '关闭' }).isVisible(), 'its close button is named as shown');
    assert.equal(await buttonVisible(Alice, 'Close'), false, 'no English name left behind');
    await Alice.page.keyboard.press('Escape');
    await Alice.page.getByLabel('语言', { exact: true }).selectOption('en');
    assert.ok(await buttonVisible(Alice, 'Mute') || await buttonVisible(Alice, 'Unmute'), 'back in English, names too');
    await clickButton(Carol, 'Unmute');
  });

  it('someone whose tab crashes is "Reconnecting…" on the others\' people panel (their seat is kept for them to come back)', TEST, async () => {
    const { Alice } = people;
    const frank = await newChromiumParticipant(browser, 'Frank');
    try {
      await joinViaUi(frank, meetingUrl, 'Frank');
      await openPeoplePanel(Alice);
      await until(Alice, peopleShown, (list) => list.find((x) => x.name === 'Frank')?.state === 'Connected', 'Frank connected on Alice\'s panel');
      // His tab crashes: no "Leave", no goodbye on the socket, his connections dead.
      const cdp = await frank.page.context().newCDPSession(frank.page);
      const crashed = frank.page.waitForEvent('crash', { timeout: 10000 });
      cdp.send('Page.crash').catch(() => {});  // never answered: the page is gone
      await crashed;
    } finally {
      await frank.close();
    }
    await until(Alice, peopleShown, (list) => list.find((x) => x.name === 'Frank')?.state === 'Reconnecting…', 'Frank reconnecting on Alice\'s panel', 20000);
    await screenshot(Alice, 'reconnecting.png');
    await clickButton(Alice, 'Close people');
  });

  it('no page reported an error', TEST, async () => {
    for (const p of Object.values(people)) assert.deepEqual(p.errors, [], `${p.name}'s page errors`);
  });
});
