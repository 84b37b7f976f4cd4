// The network lab: a small internet inside Linux network namespaces, built
// by the test and torn down by it (also after a failure, and at exit).
//
//   "internet" 203.0.113.0/24 (a bridge in its own namespace)
//     ├─ srv    203.0.113.10   meshmeet-server (HTTP, WebSocket, STUN) and coturn
//     ├─ rtrN   203.0.113.10N  a home router: NAT (cone or symmetric), drops
//     │                        unsolicited packets to its WAN address
//     │  └─ homeN 192.168.N.2  one participant's browser
//     …
//
// Nothing is linked to the machine's own interfaces: no route leads out of
// the lab, so no test packet can reach an address that is not the lab's.
//
//   const lab = await buildLab([{ nat: 'cone' }, { nat: 'symmetric' }, { nat: 'cone', udp: 'blocked' }]);
//   lab.homes[0].ns          // namespace of home 1, for `ip netns exec`
//   await lab.fault(lab.homes[0], 'loss', 30);   // 30 % of its packets dropped at its router
//   await lab.fault(lab.homes[0], 'blackout');
//   await lab.fault(lab.homes[0], 'none');
//   lab.renumber(lab.homes[0]);                  // its router gets another public address
//   await lab.rateLimit(lab.homes[0], '1mbit');  // its uplink, with tbf
//   lab.teardown();
//
// Needs root, iproute2 and nftables (tools/setup.sh installs them).

import { spawnSync } from 'node:child_process';

export const INTERNET = '203.0.113';
export const SERVER_IP = `${INTERNET}.10`;

const labs = new Set();
process.on('exit', () => {
  for (const lab of labs) lab.teardown();
});

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0)
    throw new Error(`lab: \`${cmd} ${args.join(' ')}\` failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || r.error?.message || '').trim()}`);
  return r.stdout;
}

const ip = (...args) => run('ip', args);
const inNs = (ns, cmd, args, input) => run('ip', ['netns', 'exec', ns, cmd, ...args], input);

/** Why the lab cannot run here, or null when it can (root, ip, nft). */
export function labUnavailable() {
  if (process.getuid?.() !== 0) return 'the network lab needs root (network namespaces)';
  for (const [cmd, args] of [['ip', ['-V']], ['nft', ['--version']]]) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.status !== 0) return `the network lab needs \`${cmd}\` (tools/setup.sh installs it)`;
  }
  return null;
}

// The router's rules. `lab` holds the NAT and the home-router behaviour;
// `faults` is rewritten while a call runs (loss, blackout).
function routerRules({ nat, udp }) {
  return `
table ip lab {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "wan" masquerade${nat === 'symmetric' ? ' fully-random' : ''}
  }
  chain input {
    type filter hook input priority filter; policy accept;
    iifname "wan" ct state new drop
  }
  chain faults {
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    jump faults
    ${udp === 'blocked' ? 'iifname "lan" meta l4proto udp drop' : ''}
  }
}
`;
}

/**
 * Builds the lab: the internet, the server's host and one home per entry of
 * `homes` ({ nat: 'cone' | 'symmetric', udp: 'open' | 'blocked' }).
 */
export function buildLab(homes) {
  const prefix = `mm${process.pid % 100000}`;
  const lab = {
    prefix,
    namespaces: [],
    internet: `${prefix}-inet`,
    server: { ns: `${prefix}-srv`, ip: SERVER_IP },
    homes: [],
    torn: false,
    teardown() {
      if (this.torn) return;
      this.torn = true;
      labs.delete(this);
      for (const ns of [...this.namespaces].reverse()) spawnSync('ip', ['netns', 'del', ns]);
    },
    /** Packet faults at a home's router: 'none', 'loss' (percent), 'blackout'. */
    fault(home, kind, percent = 0) {
      const rules = {
        none: '',
        loss: `numgen random mod 100 < ${Number(percent)} drop`,
        blackout: 'drop',
      }[kind];
      if (rules === undefined) throw new Error(`lab: unknown fault ${kind}`);
      inNs(home.router, 'nft', ['-f', '-'], `flush chain ip lab faults\n${rules ? `add rule ip lab faults ${rules}\n` : ''}`);
    },
    /**
     * The home's router comes back with another public address, as when an
     * ISP hands out a new one (or the person moves to a phone hotspot):
     * every NAT mapping it had is gone with the old address.
     */
    renumber(home) {
      const next = `${INTERNET}.${150 + home.n + 10 * (home.renumbered = (home.renumbered ?? 0) + 1)}`;
      // Old first: deleting a primary address also deletes the secondaries of its subnet.
      ip('-n', home.router, 'addr', 'del', `${home.wan}/24`, 'dev', 'wan');
      ip('-n', home.router, 'addr', 'add', `${next}/24`, 'dev', 'wan');
      home.wan = next;
    },
    /** Caps a home's uplink (its router's WAN egress) with tbf; null removes the cap. */
    rateLimit(home, rate) {
      spawnSync('ip', ['netns', 'exec', home.router, 'tc', 'qdisc', 'del', 'dev', 'wan', 'root']);
      if (rate) inNs(home.router, 'tc', ['qdisc', 'add', 'dev', 'wan', 'root', 'tbf', 'rate', rate, 'burst', '32kbit', 'latency', '400ms']);
    },
  };
  labs.add(lab);
  const addNs = (name) => {
    spawnSync('ip', ['netns', 'del', name]);  // a stale one from a killed run
    ip('netns', 'add', name);
    lab.namespaces.push(name);
    ip('-n', name, 'link', 'set', 'lo', 'up');
    return name;
  };
  try {
    addNs(lab.internet);
    ip('-n', lab.internet, 'link', 'add', 'br0', 'type', 'bridge');
    ip('-n', lab.internet, 'link', 'set', 'br0', 'up');
    const plug = (ns, inside, port, address) => {
      ip('link', 'add', inside, 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', lab.internet);
      ip('-n', lab.internet, 'link', 'set', port, 'master', 'br0');
      ip('-n', lab.internet, 'link', 'set', port, 'up');
      ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', inside);
      ip('-n', ns, 'link', 'set', inside, 'up');
    };

    addNs(lab.server.ns);
    plug(lab.server.ns, 'eth0', 'srv', SERVER_IP);

    homes.forEach((spec, i) => {
      const n = i + 1;
      const home = {
        n,
        nat: spec.nat ?? 'cone',
        udp: spec.udp ?? 'open',
        router: addNs(`${prefix}-rtr${n}`),
        ns: addNs(`${prefix}-home${n}`),
        wan: `${INTERNET}.${100 + n}`,
        ip: `192.168.${n}.2`,
      };
      plug(home.router, 'wan', `r${n}`, home.wan);
      ip('link', 'add', 'lan', 'netns', home.router, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', home.ns);
      ip('-n', home.router, 'addr', 'add', `192.168.${n}.1/24`, 'dev', 'lan');
      ip('-n', home.router, 'link', 'set', 'lan', 'up');
      ip('-n', home.ns, 'addr', 'add', `${home.ip}/24`, 'dev', 'eth0');
      ip('-n', home.ns, 'link', 'set', 'eth0', 'up');
      ip('-n', home.ns, 'route', 'add', 'default', 'via', `192.168.${n}.1`);
      inNs(home.router, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      inNs(home.router, 'nft', ['-f', '-'], routerRules(home));
      lab.homes.push(home);
    });
  } catch (e) {
    lab.teardown();
    throw e;
  }
  return lab;
}
