// What the app says to the others peer to peer, over the package's app
// data (meeting.send and the 'data' event): chat, a raised hand, a
// reaction. The server never sees any of it.
//
// Every message is a JSON object { app: 'meshmeet', type, ... }. What a peer
// sends is checked before anything is shown: a broken or hostile page can
// send anything, and what does not read as one of these is ignored.

const APP = 'meshmeet';

export const MAX_CHAT_CHARS = 2000;

/** The reactions offered, and their English names (what a screen reader says). */
export const REACTIONS = {
  '👍': 'thumbs up',
  '❤️': 'heart',
  '😂': 'laughing',
  '🎉': 'celebration',
  '👏': 'applause',
  '😮': 'surprised',
};

export const chatMessage = (text) => ({ app: APP, type: 'chat', text });
export const handMessage = (up) => ({ app: APP, type: 'hand', up });
export const reactionMessage = (emoji) => ({ app: APP, type: 'reaction', emoji });

/**
 * What a peer's 'data' is: { type: 'chat', text } | { type: 'hand', up } |
 * { type: 'reaction', emoji }, or null for anything else.
 */
export function readMessage(data) {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || data.app !== APP) return null;
  switch (data.type) {
    case 'chat':
      return typeof data.text === 'string' && data.text.trim() && data.text.length <= MAX_CHAT_CHARS ? { type: 'chat', text: data.text } : null;
    case 'hand':
      return typeof data.up === 'boolean' ? { type: 'hand', up: data.up } : null;
    case 'reaction':
      return Object.hasOwn(REACTIONS, data.emoji) ? { type: 'reaction', emoji: data.emoji } : null;
    default:
      return null;
  }
}
