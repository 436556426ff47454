// A tiny authoritative DNS server for tests: `node fake-dns.js IP NAME=ADDR...` answers A queries
// for the given names and NXDOMAIN for everything else (UDP, port 53). Stopped by its parent.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

const [ip, ...pairs] = process.argv.slice(2);
const records = new Map(pairs.map((p) => p.split('=') as [string, string]));
const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  let q: dnsPacket.Packet;
  try { q = dnsPacket.decode(msg); } catch { return; }
  const question = q.questions?.[0];
  if (!question) return;
  const addr = records.get(question.name.replace(/\.$/, '').toLowerCase());
  const answers = addr && question.type === 'A' ? [{ type: 'A' as const, name: question.name, ttl: 60, class: 'IN' as const, data: addr }] : [];
  const flags = dnsPacket.RECURSION_AVAILABLE | (addr ? 0 : 3); // rcode 3 = NXDOMAIN
  sock.send(dnsPacket.encode({ type: 'response', id: q.id, flags, questions: q.questions, answers }), rinfo.port, rinfo.address);
});
sock.bind(53, ip, () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
