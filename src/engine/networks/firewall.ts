import { run } from '../../util/exec.js';

// NAT, port publishing and isolation for bridge networks, as one nftables table (`ip shoal`) that
// is rebuilt from the daemon's state and loaded in a single transaction: there is never a moment
// with half a ruleset, and a restarted daemon converges to the same rules.

export interface FwBridge {
  ifname: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  masquerade: boolean;
  /** the embedded DNS listens on gateway:53; published ports must not capture those queries */
  dns: boolean;
  /** enable_icc=false (docker_gwbridge): containers on it do not reach each other (default true) */
  icc?: boolean;
}

export interface FwPort {
  proto: 'tcp' | 'udp' | 'sctp';
  hostIp: string; // '' or 0.0.0.0 = every local address
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export const TABLE = 'shoal';

const q = (s: string) => JSON.stringify(s);

export function buildRuleset(bridges: FwBridge[], ports: FwPort[]): string {
  const pre: string[] = [];
  const published: string[] = [];
  const post: string[] = [];
  const fwd: string[] = [];
  for (const b of bridges) {
    if (b.dns) pre.push(`iifname ${q(b.ifname)} ip daddr ${b.gateway} meta l4proto { tcp, udp } th dport 53 accept`);
  }
  for (const p of ports) {
    const dst = p.hostIp && p.hostIp !== '0.0.0.0' ? `ip daddr ${p.hostIp} ` : '';
    published.push(`${dst}${p.proto} dport ${p.hostPort} dnat to ${p.containerIp}:${p.containerPort}`);
  }
  const names = bridges.map((b) => q(b.ifname));
  for (const b of bridges) {
    const br = q(b.ifname);
    // no inter-container traffic: what the bridge itself forwards is stopped by port isolation
    // (links.ts), this catches the same routed back through the host
    if (b.icc === false) fwd.push(`iifname ${br} oifname ${br} drop`);
    // from the host itself to a published port: 127.0.0.1 must not leave on the bridge as source
    post.push(`oifname ${br} ip saddr 127.0.0.0/8 masquerade`);
    // hairpin: a container reaching a published port of its own network
    post.push(`oifname ${br} ip saddr ${b.subnet} ct status dnat masquerade`);
    if (b.internal) {
      fwd.push(`iifname ${br} oifname != ${br} drop`);
      fwd.push(`oifname ${br} iifname != ${br} drop`);
      continue;
    }
    if (b.masquerade) post.push(`oifname != ${br} ip saddr ${b.subnet} masquerade`);
    const others = names.filter((n) => n !== br);
    if (others.length) fwd.push(`iifname ${br} oifname { ${others.join(', ')} } drop`);
  }
  const chain = (name: string, hook: string, rules: string[]) =>
    `  chain ${name} {\n${hook ? `    ${hook}\n` : ''}${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
  return `table ip ${TABLE}\ndelete table ip ${TABLE}\ntable ip ${TABLE} {\n` +
    chain('prerouting', 'type nat hook prerouting priority dstnat; policy accept;', [...pre, 'fib daddr type local jump published']) +
    chain('output', 'type nat hook output priority -100; policy accept;', ['fib daddr type local jump published']) +
    chain('published', '', published) +
    chain('postrouting', 'type nat hook postrouting priority srcnat; policy accept;', post) +
    chain('forward', 'type filter hook forward priority filter; policy accept;', fwd) +
    '}\n';
}

export async function applyRuleset(text: string): Promise<void> {
  const r = await run('nft', ['-f', '-'], { input: text });
  if (r.code !== 0) throw new Error(`nft: ${r.stderr.trim() || `exit ${r.code}`}`);
}

export async function removeRuleset(): Promise<void> {
  await run('nft', ['delete', 'table', 'ip', TABLE]);
}
