// The page's words in English and Simplified Chinese. The language follows
// the browser's and can be switched; the choice is remembered on this device.

const STRINGS = {
  en: {
    headline: 'Meet face to face,',
    headlineAccent: 'peer to peer',
    headlineEnd: '.',
    tagline: 'Video meetings that go straight from you to the others. No downloads, no accounts.',
    meetingNameLabel: 'Meeting name (optional)',
    meetingNamePlaceholder: 'Weekly sync',
    newMeeting: 'New meeting',
    creating: 'Creating…',
    relayOnly: 'Hide my IP address from the others',
    relayUnavailable: 'This server cannot hide IP addresses (no relay server configured).',
    relayOnlyBadge: 'IP addresses hidden',
    relayOnlyExplained: 'Every connection goes through the relay server: nobody in this meeting sees anyone else\'s IP address.',
    meetingReady: 'Your meeting is ready. Send this link to the others:',
    openMeeting: 'Open meeting',
    orOpen: 'or open one you were sent',
    openPlaceholder: 'Meeting link or code',
    notAMeetingLink: 'That is not a meeting link. It looks like https://…/m/ followed by a long code.',
    copyLink: 'Copy link',
    linkCopied: 'Link copied',
    privacyNote: 'Audio and video travel directly between participants; the server only helps you find each other.',
    yourName: 'Your name',
    yourNamePlaceholder: 'How the others see you',
    camera: 'Camera',
    microphone: 'Microphone',
    join: 'Join',
    joining: 'Joining…',
    participantsNow: (n) => (n === 0 ? 'Nobody is here yet.' : n === 1 ? '1 person is here.' : `${n} people are here.`),
    you: 'You',
    guest: 'Guest',
    selfName: (name) => `${name || 'Guest'} (You)`,
    untitled: 'Meeting',
    mute: 'Mute',
    unmute: 'Unmute',
    cameraOff: 'Camera off',
    cameraOn: 'Camera on',
    shareScreen: 'Share screen',
    stopSharing: 'Stop sharing',
    chat: 'Chat',
    leave: 'Leave',
    send: 'Send',
    chatPlaceholder: 'Message everyone',
    chatEmpty: 'Messages go directly to the others and are not stored anywhere.',
    verify: 'Verify',
    verifyHint: 'Read this code aloud: the other person must see the same code.',
    verifyWaiting: 'Waiting for the code…',
    verifyFailed: 'Verification failed: this connection may not be private.',
    verifyMatches: 'It matches',
    verified: 'Verified',
    codeChanged: (name) => `${name}'s code changed since you verified it. Compare it again.`,
    micOff: 'Microphone off',
    quality: { unknown: 'Connection: not measured yet', good: 'Connection: good', fair: 'Connection: fair', poor: 'Connection: poor' },
    connecting: 'Connecting…',
    reconnecting: 'Connection lost — reconnecting…',
    waitingForSeat: 'The meeting filled up while you were away — waiting for a seat…',
    notFound: 'Meeting not found. Check the link, or start a new meeting.',
    full: 'This meeting is full. Try again when someone leaves.',
    unreachable: 'The meeting server cannot be reached. Check your connection and try again.',
    mediaDenied: 'Camera and microphone are blocked. You can still join and listen; allow them in the browser to be seen and heard.',
    mediaAbsent: 'No camera or microphone found. You can still join and listen.',
    cameraAbsent: 'No camera found: you will join with your microphone only.',
    microphoneAbsent: 'No microphone found: you will join with your camera only.',
    cameraDenied: 'The camera is blocked: you will join with your microphone only. Allow it in the browser to be seen.',
    microphoneDenied: 'The microphone is blocked: you will join with your camera only. Allow it in the browser to be heard.',
    screenDenied: 'Screen sharing was not started.',
    leftTitle: 'You left the meeting.',
    rejoin: 'Rejoin',
    backHome: 'New meeting',
    peerLeftToast: (name) => `${name} left`,
    peerJoinedToast: (name) => `${name} joined`,
    cantReach: (name) => `Can't reach ${name} — retrying`,
    language: 'Language',
    waitingForOthers: 'Waiting for others to join. Share the link to invite them.',
    unknownError: (code) => `Something went wrong (${code}).`,
    chatAnnounce: (who, text) => `${who} says: ${text}`,
    notDelivered: 'The message could not be sent.',
    unreadMessages: (n) => (n === 1 ? '1 unread message' : `${n} unread messages`),
    people: 'People',
    peopleCount: (n) => (n === 1 ? '1 person in the meeting' : `${n} people in the meeting`),
    stateConnected: 'Connected',
    stateConnecting: 'Connecting…',
    stateReconnecting: 'Reconnecting…',
    stateCantReach: "Can't reach — retrying",
    handRaised: 'Hand raised',
    cameraIsOff: 'Camera off',
    codeChangedShort: 'Code changed',
    raiseHand: 'Raise hand',
    lowerHand: 'Lower hand',
    handRaisedBy: (name) => `${name} raised their hand`,
    handRaisedYou: 'You raised your hand',
    handLoweredYou: 'You lowered your hand',
    handLoweredSpoke: 'Your hand was lowered: you have the floor.',
    react: 'React',
    reacted: (name, what) => `${name} reacted: ${what}`,
    reaction: { 'thumbs up': 'thumbs up', heart: 'heart', laughing: 'laughing', celebration: 'celebration', applause: 'applause', surprised: 'surprised' },
    micOnYou: 'Your microphone is on',
    micOffYou: 'Your microphone is off',
    cameraOnYou: 'Your camera is on',
    cameraOffYou: 'Your camera is off',
    pin: 'Pin',
    unpin: 'Unpin',
    fullScreen: 'Full screen',
    devices: 'Devices',
    speaker: 'Speaker',
    deviceNotSwitched: 'That device could not be opened; the one before is still in use.',
    shortcutsTitle: 'Keyboard shortcuts',
    shortcutMute: 'Mute or unmute your microphone',
    shortcutCamera: 'Turn your camera off or on',
    shortcutChat: 'Open or close the chat',
    shortcutPeople: 'Open or close the people panel',
    shortcutHand: 'Raise or lower your hand',
    shortcutHelp: 'Show or hide these shortcuts',
    shortcutEscape: 'Close a menu or this help',
    close: 'Close',
    home: 'meshmeet home',
    meetingLink: 'Meeting link',
    micLevel: 'Microphone level',
    closePeople: 'Close people',
    peopleList: 'People in the meeting',
    chatPanel: 'Chat panel',
    closeChat: 'Close chat',
    chatMessage: 'Chat message',
    openChat: 'Open chat',
    meetingControls: 'Meeting controls',
    reactions: 'Reactions',
    switchCamera: 'Switch camera',
    switchMicrophone: 'Switch microphone',
    switchSpeaker: 'Switch speaker',
    verifyPeer: (name) => `Verify ${name}`,
    verifyMatchesPeer: (name) => `It matches: ${name}`,
    fullScreenPeer: (name) => `Full screen ${name}`,
    pinPeer: (name) => `Pin ${name}`,
    unpinPeer: (name) => `Unpin ${name}`,
    reactWith: (what) => `React: ${what}`,  // what: a reaction's English name, a key of `reaction`
  },
  zh: {
    headline: '面对面开会，',
    headlineAccent: '点对点直连',
    headlineEnd: '。',
    tagline: '视频会议直接在你和其他人之间传输。无需下载，无需注册。',
    meetingNameLabel: '会议名称（可选）',
    meetingNamePlaceholder: '每周例会',
    newMeeting: '新建会议',
    creating: '正在创建…',
    relayOnly: '向其他人隐藏我的 IP 地址',
    relayUnavailable: '此服务器无法隐藏 IP 地址（未配置中继服务器）。',
    relayOnlyBadge: 'IP 地址已隐藏',
    relayOnlyExplained: '所有连接都经过中继服务器：会议中没有人能看到其他人的 IP 地址。',
    meetingReady: '会议已准备好。把这个链接发给其他人：',
    openMeeting: '进入会议',
    orOpen: '或者打开别人发给你的会议',
    openPlaceholder: '会议链接或代码',
    notAMeetingLink: '这不是会议链接。会议链接的样子是 https://…/m/ 后面跟一长串代码。',
    copyLink: '复制链接',
    linkCopied: '链接已复制',
    privacyNote: '音视频直接在参会者之间传输；服务器只负责帮你们找到彼此。',
    yourName: '你的名字',
    yourNamePlaceholder: '其他人看到的名字',
    camera: '摄像头',
    microphone: '麦克风',
    join: '加入',
    joining: '正在加入…',
    participantsNow: (n) => (n === 0 ? '还没有人加入。' : `已有 ${n} 人在会议中。`),
    you: '你',
    guest: '访客',
    selfName: (name) => `${name || '访客'}（你）`,
    untitled: '会议',
    mute: '静音',
    unmute: '取消静音',
    cameraOff: '关闭摄像头',
    cameraOn: '打开摄像头',
    shareScreen: '共享屏幕',
    stopSharing: '停止共享',
    chat: '聊天',
    leave: '离开',
    send: '发送',
    chatPlaceholder: '发消息给所有人',
    chatEmpty: '消息直接发送给其他人，不会保存在任何地方。',
    verify: '验证',
    verifyHint: '读出这个验证码：对方看到的必须是同一个验证码。',
    verifyWaiting: '正在等待验证码…',
    verifyFailed: '验证失败：此连接可能不是私密的。',
    verifyMatches: '一致',
    verified: '已验证',
    codeChanged: (name) => `${name} 的验证码在你验证之后变了。请重新核对。`,
    micOff: '麦克风已关闭',
    quality: { unknown: '连接：尚未测量', good: '连接：良好', fair: '连接：一般', poor: '连接：较差' },
    connecting: '正在连接…',
    reconnecting: '连接已断开——正在重新连接…',
    waitingForSeat: '你离开期间会议已满——正在等待空位…',
    notFound: '找不到这个会议。请检查链接，或新建一个会议。',
    full: '会议人数已满。请等有人离开后再试。',
    unreachable: '无法连接会议服务器。请检查网络后重试。',
    mediaDenied: '摄像头和麦克风被阻止了。你仍然可以加入并收听；在浏览器中允许后，其他人才能看到和听到你。',
    mediaAbsent: '没有找到摄像头或麦克风。你仍然可以加入并收听。',
    cameraAbsent: '没有找到摄像头：你将只用麦克风加入。',
    microphoneAbsent: '没有找到麦克风：你将只用摄像头加入。',
    cameraDenied: '摄像头被阻止了：你将只用麦克风加入。在浏览器中允许后，其他人才能看到你。',
    microphoneDenied: '麦克风被阻止了：你将只用摄像头加入。在浏览器中允许后，其他人才能听到你。',
    screenDenied: '没有开始共享屏幕。',
    leftTitle: '你已离开会议。',
    rejoin: '重新加入',
    backHome: '新建会议',
    peerLeftToast: (name) => `${name} 已离开`,
    peerJoinedToast: (name) => `${name} 已加入`,
    cantReach: (name) => `无法连接 ${name} — 正在重试`,
    language: '语言',
    waitingForOthers: '正在等待其他人加入。分享链接来邀请他们。',
    unknownError: (code) => `出了点问题（${code}）。`,
    chatAnnounce: (who, text) => `${who} 说：${text}`,
    notDelivered: '消息没有发送出去。',
    unreadMessages: (n) => `${n} 条未读消息`,
    people: '参会者',
    peopleCount: (n) => `会议中有 ${n} 人`,
    stateConnected: '已连接',
    stateConnecting: '正在连接…',
    stateReconnecting: '正在重新连接…',
    stateCantReach: '无法连接——正在重试',
    handRaised: '已举手',
    cameraIsOff: '摄像头已关闭',
    codeChangedShort: '验证码已变',
    raiseHand: '举手',
    lowerHand: '放下手',
    handRaisedBy: (name) => `${name} 举手了`,
    handRaisedYou: '你举手了',
    handLoweredYou: '你放下了手',
    handLoweredSpoke: '你已开始发言，手已自动放下。',
    react: '表情',
    reacted: (name, what) => `${name} 发送了表情：${what}`,
    reaction: { 'thumbs up': '点赞', heart: '爱心', laughing: '大笑', celebration: '庆祝', applause: '鼓掌', surprised: '惊讶' },
    micOnYou: '你的麦克风已打开',
    micOffYou: '你的麦克风已关闭',
    cameraOnYou: '你的摄像头已打开',
    cameraOffYou: '你的摄像头已关闭',
    pin: '固定',
    unpin: '取消固定',
    fullScreen: '全屏',
    devices: '设备',
    speaker: '扬声器',
    deviceNotSwitched: '无法打开这个设备；仍在使用之前的设备。',
    shortcutsTitle: '键盘快捷键',
    shortcutMute: '打开或关闭麦克风',
    shortcutCamera: '关闭或打开摄像头',
    shortcutChat: '打开或关闭聊天',
    shortcutPeople: '打开或关闭参会者列表',
    shortcutHand: '举手或放下手',
    shortcutHelp: '显示或隐藏这些快捷键',
    shortcutEscape: '关闭菜单或此帮助',
    close: '关闭',
    home: 'meshmeet 首页',
    meetingLink: '会议链接',
    micLevel: '麦克风音量',
    closePeople: '关闭参会者列表',
    peopleList: '会议中的人',
    chatPanel: '聊天面板',
    closeChat: '关闭聊天',
    chatMessage: '聊天消息',
    openChat: '打开聊天',
    meetingControls: '会议控制',
    reactions: '表情',
    switchCamera: '切换摄像头',
    switchMicrophone: '切换麦克风',
    switchSpeaker: '切换扬声器',
    verifyPeer: (name) => `验证 ${name}`,
    verifyMatchesPeer: (name) => `一致：${name}`,
    fullScreenPeer: (name) => `全屏 ${name}`,
    pinPeer: (name) => `固定 ${name}`,
    unpinPeer: (name) => `取消固定 ${name}`,
    reactWith: (what) => `表情：${STRINGS.zh.reaction[what] ?? what}`,
  },
};


const STORAGE_KEY = 'meshmeet.language';

function initialLanguage() {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  if (saved && STRINGS[saved]) return saved;
  const preferred = globalThis.navigator?.languages ?? [globalThis.navigator?.language ?? 'en'];
  return preferred.some((l) => l?.toLowerCase().startsWith('zh')) ? 'zh' : 'en';
}

let language = initialLanguage();
const listeners = new Set();

export function t(key, ...args) {
  const value = key.split('.').reduce((o, k) => o?.[k], STRINGS[language]) ?? key.split('.').reduce((o, k) => o?.[k], STRINGS.en);
  return typeof value === 'function' ? value(...args) : value;
}

export function currentLanguage() {
  return language;
}

export function setLanguage(next) {
  if (!STRINGS[next] || next === language) return;
  language = next;
  globalThis.localStorage?.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
  for (const fn of listeners) fn(next);
}

export function onLanguageChange(fn) {
  listeners.add(fn);
}

// Sets an element's text to the translation of `key` (with `args` for the
// strings that take some) and keeps it translated when the language changes.
export function setText(el, key, ...args) {
  el.dataset.i18n = key;
  if (args.length) el.dataset.i18nArgs = JSON.stringify(args);
  else delete el.dataset.i18nArgs;
  el.textContent = t(key, ...args);
}

// Sets an element's accessible name (aria-label) to the translation of
// `key`, kept in the language as it changes: a screen reader reads the
// language the page shows, and a voice command names the words on screen.
export function setLabel(el, key, ...args) {
  el.dataset.i18nLabel = key;
  if (args.length) el.dataset.i18nLabelArgs = JSON.stringify(args);
  else delete el.dataset.i18nLabelArgs;
  el.setAttribute('aria-label', t(key, ...args));
}

// Sets an element's accessible description (aria-description, e.g. "2 unread
// messages" on the Chat button) the same way; `key` null removes it.
export function setDescription(el, key, ...args) {
  if (key === null) {
    delete el.dataset.i18nDescription;
    delete el.dataset.i18nDescriptionArgs;
    el.removeAttribute('aria-description');
    return;
  }
  el.dataset.i18nDescription = key;
  el.dataset.i18nDescriptionArgs = JSON.stringify(args);
  el.setAttribute('aria-description', t(key, ...args));
}

// Fills every [data-i18n] element's text, [data-i18n-placeholder] placeholder,
// [data-i18n-title] title, [data-i18n-label] accessible name and
// [data-i18n-description] accessible description.
export function translatePage(root = document) {
  document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n, ...JSON.parse(el.dataset.i18nArgs ?? '[]'));
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel, ...JSON.parse(el.dataset.i18nLabelArgs ?? '[]')));
  for (const el of root.querySelectorAll('[data-i18n-description]'))
    el.setAttribute('aria-description', t(el.dataset.i18nDescription, ...JSON.parse(el.dataset.i18nDescriptionArgs ?? '[]')));
}
