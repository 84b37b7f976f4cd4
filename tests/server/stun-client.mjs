// Just enough STUN (RFC 8489) and TURN (RFC 8656) for the server tests:
// Binding requests to the built-in responder, and a TURN Allocate with the
// long-term credential mechanism to ask coturn whether it accepts
// credentials our server minted. Every wait is bounded.
import dgram from 'node:dgram';
import { createHash, createHmac, randomBytes } from 'node:crypto';

export const MAGIC = 0x2112a442;

// CRC-32 (zlib's) for FINGERPRINT; Node 20 has no zlib.crc32.
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
export function fingerprint(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return ((c ^ 0xffffffff) ^ 0x5354554e) >>> 0;
}

/** A STUN message: type, transaction id (12 bytes), attributes [[type, Buffer]]. */
export function encode(type, txid, attrs = []) {
  const parts = [];
  for (const [t, value] of attrs) {
    const head = Buffer.alloc(4);
    head.writeUInt16BE(t, 0);
    head.writeUInt16BE(value.length, 2);
    parts.push(head, value, Buffer.alloc((4 - (value.length % 4)) % 4));
  }
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(body.length, 2);
  header.writeUInt32BE(MAGIC, 4);
  txid.copy(header, 8);
  return Buffer.concat([header, body]);
}

/** {type, length, txid, attrs: Map(type → Buffer), offsets: Map(type → offset)} or null. */
export function decode(buf) {
  if (buf.length < 20 || buf.readUInt32BE(4) !== MAGIC) return null;
  const out = { type: buf.readUInt16BE(0), length: buf.readUInt16BE(2), txid: buf.subarray(8, 20), attrs: new Map(), offsets: new Map() };
  let at = 20;
  while (at + 4 <= buf.length) {
    const t = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    out.attrs.set(t, buf.subarray(at + 4, at + 4 + len));
    out.offsets.set(t, at);
    at += 4 + len + ((4 - (len % 4)) % 4);
  }
  return out;
}

/** XOR-MAPPED-ADDRESS → {family, address, port}. */
export function xorMapped(msg) {
  const v = msg.attrs.get(0x0020);
  if (!v) return null;
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  const key = Buffer.alloc(16);
  key.writeUInt32BE(MAGIC, 0);
  msg.txid.copy(key, 4);
  if (v[1] === 0x01) {
    const a = [...v.subarray(4, 8)].map((b, i) => b ^ key[i]);
    return { family: 4, address: a.join('.'), port };
  }
  const a = [...v.subarray(4, 20)].map((b, i) => b ^ key[i]);
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a[i] << 8) | a[i + 1]).toString(16));
  return { family: 6, address: groups.join(':'), port };
}

/** A UDP socket with a bounded wait for the next datagram. */
export async function udpSocket(type = 'udp4', address = '127.0.0.1') {
  const sock = dgram.createSocket(type);
  const inbox = [];
  let waiter = null;
  sock.on('message', (m) => {
    if (waiter) { const w = waiter; waiter = null; w(m); } else inbox.push(m);
  });
  await new Promise((res, rej) => { sock.once('error', rej); sock.bind(0, address, res); });
  return {
    sock,
    port: sock.address().port,
    send: (buf, port, host = '127.0.0.1') => new Promise((res, rej) => sock.send(buf, port, host, (e) => (e ? rej(e) : res()))),
    /** The next datagram, or null after ms. */
    next(ms = 1000) {
      if (inbox.length) return Promise.resolve(inbox.shift());
      return new Promise((res) => {
        const timer = setTimeout(() => { waiter = null; res(null); }, ms);
        waiter = (m) => { clearTimeout(timer); res(m); };
      });
    },
    /** Every datagram arriving within ms. */
    async drain(ms) {
      await new Promise((r) => setTimeout(r, ms));
      return inbox.splice(0);
    },
    close: () => new Promise((res) => { try { sock.close(res); } catch { res(); } }),
  };
}

export const bindingRequest = (txid = randomBytes(12), attrs = []) => encode(0x0001, txid, attrs);

// ---------------------------------------------------------------------------
// TURN Allocate with long-term credentials (RFC 8656 §7.2, RFC 8489 §9.2).

function withIntegrity(type, txid, attrs, key) {
  // MESSAGE-INTEGRITY covers the message up to itself, with the length
  // already counting it (24 bytes).
  const draft = encode(type, txid, attrs);
  draft.writeUInt16BE(draft.length - 20 + 24, 2);
  const mac = createHmac('sha1', key).update(draft).digest();
  return encode(type, txid, [...attrs, [0x0008, mac]]);
}

const errorCode = (msg) => {
  const v = msg.attrs.get(0x0009);
  return v ? v[2] * 100 + v[3] : null;
};

/**
 * Asks the TURN server at host:port for a UDP relay with username/password.
 * Resolves {ok: true} on success or {ok: false, code} with the error code.
 */
export async function turnAllocate({ host = '127.0.0.1', port, username, password, timeoutMs = 2000 }) {
  const udp = await udpSocket();
  try {
    const transport = [0x0019, Buffer.from([17, 0, 0, 0])];
    const ask = async (buf) => {
      await udp.send(buf, port, host);
      const raw = await udp.next(timeoutMs);
      if (!raw) throw new Error(`no answer from TURN ${host}:${port}`);
      return decode(raw);
    };
    const first = await ask(encode(0x0003, randomBytes(12), [transport]));
    if (first.type !== 0x0113 || errorCode(first) !== 401) throw new Error(`expected 401 for an unauthenticated Allocate, got type ${first.type} code ${errorCode(first)}`);
    let realm = first.attrs.get(0x0014);
    let nonce = first.attrs.get(0x0015);
    for (let attempt = 0; attempt < 2; attempt++) {
      const key = createHash('md5').update(`${username}:${realm.toString()}:${password}`).digest();
      const reply = await ask(withIntegrity(0x0003, randomBytes(12), [
        transport, [0x0006, Buffer.from(username)], [0x0014, realm], [0x0015, nonce],
      ], key));
      if (reply.type === 0x0103) return { ok: true };
      const code = errorCode(reply);
      if (code === 438 && reply.attrs.get(0x0015)) { // stale nonce: once more with the new one
        nonce = reply.attrs.get(0x0015);
        realm = reply.attrs.get(0x0014) ?? realm;
        continue;
      }
      return { ok: false, code };
    }
    return { ok: false, code: 438 };
  } finally {
    await udp.close();
  }
}
