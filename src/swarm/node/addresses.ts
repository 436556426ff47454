import os from 'node:os';
import { BadRequest } from '../../api/errors.js';

// Docker's rules for --advertise-addr / --listen-addr: an IP or an interface name, with an
// optional port (default 2377); without an advertise address the node's single non-loopback
// IPv4 address is used, and several of them is an error naming them.

export const SWARM_PORT = 2377;

export function splitHostPort(v: string, defPort = SWARM_PORT): { host: string; port: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(v.trim())!;
  return { host: m[1], port: m[2] ? Number(m[2]) : defPort };
}

function ipv4Of(iface: string): string | undefined {
  return os.networkInterfaces()[iface]?.find((a) => a.family === 'IPv4')?.address;
}

/** Resolves "IP|IFACE[:port]" or, when empty, the only candidate address of this host. */
export function resolveAdvertiseAddr(advertise: string, listen: string): { ip: string; port: number } {
  const l = splitHostPort(listen || `0.0.0.0:${SWARM_PORT}`);
  if (advertise) {
    const a = splitHostPort(advertise, l.port);
    if (/^\d+\.\d+\.\d+\.\d+$/.test(a.host)) return { ip: a.host, port: a.port };
    const ip = ipv4Of(a.host);
    if (!ip) throw new BadRequest(`failed to find IP address for interface ${a.host}`);
    return { ip, port: a.port };
  }
  if (l.host && l.host !== '0.0.0.0') {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(l.host)) return { ip: l.host, port: l.port };
    const ip = ipv4Of(l.host);
    if (ip) return { ip, port: l.port };
  }
  const candidates: { ip: string; iface: string }[] = [];
  for (const [iface, addrs] of Object.entries(os.networkInterfaces())) {
    // bridges shoald made for containers are not the host's addresses
    // our own bridges (default, user-defined, overlays) are not the host's addresses
    if (iface === 'shoal0' || iface.startsWith('br-') || iface.startsWith('veth') || iface.startsWith('docker') || iface.startsWith('ov-') || iface.startsWith('vx-')) continue;
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) candidates.push({ ip: a.address, iface });
  }
  if (candidates.length === 0) throw new BadRequest('could not find the system\'s IP address - specify one with --advertise-addr');
  if (candidates.length > 1) {
    throw new BadRequest(`could not choose an IP address to advertise since this system has multiple addresses on different interfaces (${candidates[0].ip} on ${candidates[0].iface} and ${candidates[1].ip} on ${candidates[1].iface})`);
  }
  return { ip: candidates[0].ip, port: l.port };
}
