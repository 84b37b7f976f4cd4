// A tiny MaxMind DB (.mmdb) writer, enough for tests: a handful of networks,
// each mapped to one JSON-like record. Follows the public MaxMind DB format
// spec v2.0 (https://maxmind.github.io/MaxMind-DB/):
//   [binary search tree][16 zero bytes][data section]["\xAB\xCD\xEFMaxMind.com"][metadata map]
//
// Usage:
//   import { buildMmdb, writeMmdb, u16, u32, u64 } from './mmdb-writer.mjs';
//   writeMmdb('/tmp/t.mmdb', { networks: [{ cidr: '127.0.0.0/8', data: {...} }] });
//
// Options: ipVersion 6 (default; IPv4 lives under ::/96 and is aliased from
// ::ffff:0:0/96 like real MaxMind databases) or 4; recordSize 24 (default), 28
// or 32. JS values map to MMDB types: string → utf8_string, boolean → boolean,
// non-negative integer → uint32 (uint64 when ≥ 2^32), negative integer → int32,
// other numbers → double, array → array, plain object → map. Use u16/u32/u64/
// i32/dbl/bytes to force a type (the metadata needs exact types).

import { writeFileSync } from 'node:fs';
import net from 'node:net';

class Typed {
  constructor(type, value) {
    this.type = type;
    this.value = value;
  }
}
export const u16 = (v) => new Typed('uint16', v);
export const u32 = (v) => new Typed('uint32', v);
export const u64 = (v) => new Typed('uint64', v);
export const i32 = (v) => new Typed('int32', v);
export const dbl = (v) => new Typed('double', v);
export const bytes = (v) => new Typed('bytes', v);

const T = {
  pointer: 1, utf8_string: 2, double: 3, bytes: 4, uint16: 5, uint32: 6, map: 7,
  int32: 8, uint64: 9, uint128: 10, array: 11, boolean: 14, float: 15,
};

function control(type, size) {
  const head = [];
  const ext = [];
  let first;
  if (type <= 7) {
    first = type << 5;
  } else {
    first = 0; // extended
    ext.push(type - 7);
  }
  const sizeBytes = [];
  if (size < 29) {
    first |= size;
  } else if (size < 29 + 256) {
    first |= 29;
    sizeBytes.push(size - 29);
  } else if (size < 285 + 65536) {
    first |= 30;
    const s = size - 285;
    sizeBytes.push((s >> 8) & 0xff, s & 0xff);
  } else {
    first |= 31;
    const s = size - 65821;
    if (s > 0xffffff) throw new Error('mmdb: value too large');
    sizeBytes.push((s >> 16) & 0xff, (s >> 8) & 0xff, s & 0xff);
  }
  head.push(first, ...ext, ...sizeBytes);
  return Buffer.from(head);
}

function uintBytes(v, maxBytes) {
  let n = BigInt(v);
  if (n < 0n) throw new Error('mmdb: negative unsigned');
  const out = [];
  while (n > 0n) {
    out.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  if (out.length > maxBytes) throw new Error('mmdb: unsigned out of range');
  return Buffer.from(out);
}

export function encodeValue(v) {
  if (v instanceof Typed) {
    switch (v.type) {
      case 'uint16': { const b = uintBytes(v.value, 2); return Buffer.concat([control(T.uint16, b.length), b]); }
      case 'uint32': { const b = uintBytes(v.value, 4); return Buffer.concat([control(T.uint32, b.length), b]); }
      case 'uint64': { const b = uintBytes(v.value, 8); return Buffer.concat([control(T.uint64, b.length), b]); }
      case 'int32': {
        const b = Buffer.alloc(4);
        b.writeInt32BE(v.value);
        return Buffer.concat([control(T.int32, 4), b]);
      }
      case 'double': {
        const b = Buffer.alloc(8);
        b.writeDoubleBE(v.value);
        return Buffer.concat([control(T.double, 8), b]);
      }
      case 'bytes': {
        const b = Buffer.from(v.value);
        return Buffer.concat([control(T.bytes, b.length), b]);
      }
      default: throw new Error(`mmdb: unknown type ${v.type}`);
    }
  }
  if (typeof v === 'string') {
    const b = Buffer.from(v, 'utf8');
    return Buffer.concat([control(T.utf8_string, b.length), b]);
  }
  if (typeof v === 'boolean') return control(T.boolean, v ? 1 : 0);
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) return encodeValue(u32(v));
    if (Number.isInteger(v) && v >= 0) return encodeValue(u64(v));
    if (Number.isInteger(v) && v >= -(2 ** 31)) return encodeValue(i32(v));
    return encodeValue(dbl(v));
  }
  if (typeof v === 'bigint') return encodeValue(u64(v));
  if (Array.isArray(v)) {
    return Buffer.concat([control(T.array, v.length), ...v.map(encodeValue)]);
  }
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    const parts = [control(T.map, keys.length)];
    for (const k of keys) parts.push(encodeValue(k), encodeValue(v[k]));
    return Buffer.concat(parts);
  }
  throw new Error(`mmdb: cannot encode ${v}`);
}

function ipBits(addr, ipVersion) {
  const fam = net.isIP(addr);
  if (fam === 4) {
    const octets = addr.split('.').map(Number);
    const bits = [];
    for (const o of octets) for (let i = 7; i >= 0; i--) bits.push((o >> i) & 1);
    return ipVersion === 6 ? [...new Array(96).fill(0), ...bits] : bits;
  }
  if (fam === 6) {
    if (ipVersion === 4) throw new Error('mmdb: IPv6 network in an IPv4 tree');
    // expand
    let [head, tail] = addr.includes('::') ? addr.split('::') : [addr, null];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const expandPart = (parts) => parts.flatMap((p) => {
      if (p.includes('.')) {
        const o = p.split('.').map(Number);
        return [((o[0] << 8) | o[1]).toString(16), ((o[2] << 8) | o[3]).toString(16)];
      }
      return [p];
    });
    const he = expandPart(h);
    const te = expandPart(t);
    const groups = tail === null ? he : [...he, ...new Array(8 - he.length - te.length).fill('0'), ...te];
    const bits = [];
    for (const g of groups) {
      const n = parseInt(g || '0', 16);
      for (let i = 15; i >= 0; i--) bits.push((n >> i) & 1);
    }
    return bits;
  }
  throw new Error(`mmdb: bad address ${addr}`);
}

function cidrBits(cidr, ipVersion) {
  const [addr, lenStr] = cidr.split('/');
  const fam = net.isIP(addr);
  let len = Number(lenStr ?? (fam === 4 ? 32 : 128));
  const bits = ipBits(addr, ipVersion);
  if (fam === 4 && ipVersion === 6) len += 96;
  return bits.slice(0, len);
}

/** Build an .mmdb file image. */
export function buildMmdb({
  networks,
  ipVersion = 6,
  recordSize = 24,
  databaseType = 'meshmeet-test',
  languages = ['en'],
  description = { en: 'meshmeet test database' },
  buildEpoch = Math.floor(Date.now() / 1000),
  aliasIpv4Mapped = true,
} = {}) {
  if (![24, 28, 32].includes(recordSize)) throw new Error('mmdb: record size must be 24, 28 or 32');
  if (![4, 6].includes(ipVersion)) throw new Error('mmdb: ip version must be 4 or 6');
  const newNode = () => ({ rec: [null, null] });
  const root = newNode();

  // data section: one encoded blob per distinct record (deduplicated by JSON text)
  const dataParts = [];
  const dataOffsets = new Map();
  let dataLen = 0;
  const dataRef = (value) => {
    const key = JSON.stringify(value, (k, v) => (v instanceof Typed ? { $t: v.type, v: String(v.value) } : v));
    if (!dataOffsets.has(key)) {
      const enc = encodeValue(value);
      dataOffsets.set(key, dataLen);
      dataParts.push(enc);
      dataLen += enc.length;
    }
    return { data: dataOffsets.get(key) };
  };

  const walkTo = (bits, create) => {
    // returns the node at depth bits.length-1 along bits (creating as needed)
    let node = root;
    for (let i = 0; i < bits.length - 1; i++) {
      let child = node.rec[bits[i]];
      if (child === null) {
        if (!create) return null;
        child = newNode();
        node.rec[bits[i]] = child;
      } else if (!child.rec) {
        throw new Error('mmdb: overlapping networks are not supported');
      }
      node = child;
    }
    return node;
  };

  for (const { cidr, data } of networks) {
    const bits = cidrBits(cidr, ipVersion);
    if (bits.length === 0) throw new Error('mmdb: /0 networks are not supported');
    const node = walkTo(bits, true);
    const last = bits[bits.length - 1];
    if (node.rec[last] !== null) throw new Error('mmdb: overlapping networks are not supported');
    node.rec[last] = dataRef(data);
  }

  if (ipVersion === 6 && aliasIpv4Mapped) {
    // find the IPv4 subtree root (node after 96 zero bits); alias ::ffff:0:0/96 to it
    let node = root;
    for (let i = 0; i < 96 && node && node.rec; i++) node = node.rec[0];
    if (node && node.rec) {
      const mapped = [...new Array(80).fill(0), ...new Array(16).fill(1)];
      const parent = walkTo(mapped, true);
      if (parent.rec[1] === null) parent.rec[1] = node;
    }
  }

  // number nodes breadth-first (aliases make this a DAG; visit each node once)
  const ids = new Map();
  const order = [];
  const queue = [root];
  ids.set(root, 0);
  order.push(root);
  while (queue.length) {
    const n = queue.shift();
    for (const c of n.rec) {
      if (c && c.rec && !ids.has(c)) {
        ids.set(c, order.length);
        order.push(c);
        queue.push(c);
      }
    }
  }
  const nodeCount = order.length;
  const recVal = (c) => {
    if (c === null) return nodeCount;
    if (c.rec) return ids.get(c);
    return nodeCount + 16 + c.data;
  };
  const nodeBytes = (recordSize * 2) / 8;
  const tree = Buffer.alloc(nodeCount * nodeBytes);
  const maxRec = 2 ** recordSize;
  order.forEach((n, i) => {
    const [l, r] = n.rec.map(recVal);
    if (l >= maxRec || r >= maxRec) throw new Error('mmdb: record value overflows record size');
    const off = i * nodeBytes;
    if (recordSize === 24) {
      tree.writeUIntBE(l, off, 3);
      tree.writeUIntBE(r, off + 3, 3);
    } else if (recordSize === 28) {
      tree.writeUIntBE(l & 0xffffff, off, 3);
      tree[off + 3] = (((l >>> 24) & 0x0f) << 4) | ((r >>> 24) & 0x0f);
      tree.writeUIntBE(r & 0xffffff, off + 4, 3);
    } else {
      tree.writeUInt32BE(l, off);
      tree.writeUInt32BE(r, off + 4);
    }
  });

  const metadata = encodeValue({
    node_count: u32(nodeCount),
    record_size: u16(recordSize),
    ip_version: u16(ipVersion),
    database_type: databaseType,
    languages,
    binary_format_major_version: u16(2),
    binary_format_minor_version: u16(0),
    build_epoch: u64(buildEpoch),
    description,
  });
  const marker = Buffer.concat([Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com', 'ascii')]);
  return Buffer.concat([tree, Buffer.alloc(16), ...dataParts, marker, metadata]);
}

export function writeMmdb(path, opts) {
  const buf = buildMmdb(opts);
  writeFileSync(path, buf);
  return buf;
}

/** The record the geoip tests use. */
export const AMSTERDAM = {
  city: { names: { en: 'Amsterdam' } },
  country: { iso_code: 'NL', names: { en: 'Netherlands' } },
};

// CLI: node mmdb-writer.mjs OUT.mmdb [4|6]
if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node mmdb-writer.mjs OUT.mmdb [ipVersion 4|6]');
    process.exit(2);
  }
  writeMmdb(out, {
    ipVersion: Number(process.argv[3] ?? 6),
    networks: [{ cidr: '127.0.0.0/8', data: AMSTERDAM }],
  });
}
