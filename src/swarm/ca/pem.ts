// PEM in exactly the shape Go's encoding/pem writes (64-column base64, LF, trailing newline).
// The join token's CA digest is a hash of the PEM text (as in SwarmKit), so every PEM we emit,
// and every PEM we hash, goes through this one encoder.

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

export interface PemBlock { label: string; headers: Record<string, string>; der: Buffer }

export function encodePem(label: string, der: Uint8Array, headers: Record<string, string> = {}): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\n`).join('');
  return `-----BEGIN ${label}-----\n${head}${head ? '\n' : ''}${lines.join('\n')}${lines.length ? '\n' : ''}-----END ${label}-----\n`;
}

/** All PEM blocks in text, in order; RFC 1421 headers ("Key: value" lines before a blank line) are kept. */
export function decodePemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    let body = m[2]!;
    const headers: Record<string, string> = {};
    const split = body.search(/\r?\n\r?\n/);
    if (split >= 0 && /^[A-Za-z0-9-]+: /.test(body)) {
      for (const line of body.slice(0, split).split(/\r?\n/)) {
        const i = line.indexOf(': ');
        if (i > 0) headers[line.slice(0, i)] = line.slice(i + 2);
      }
      body = body.slice(split).trimStart();
    }
    const b64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new Error(`invalid PEM block ${m[1]}`);
    out.push({ label: m[1]!, headers, der: Buffer.from(b64, 'base64') });
  }
  return out;
}

/** The DER of the single block with this label; throws when there is none. */
export function pemToDer(text: string, label: string): Buffer {
  const b = decodePemBlocks(text).find((x) => x.label === label);
  if (!b) throw new Error(`no ${label} PEM block found`);
  return b.der;
}

/** Certificates re-encoded canonically: same certs, same order, whatever whitespace came in. */
export function canonicalCertPem(text: string): string {
  const certs = decodePemBlocks(text).filter((b) => b.label === 'CERTIFICATE');
  if (!certs.length) throw new Error('no CERTIFICATE PEM block found');
  return certs.map((c) => encodePem('CERTIFICATE', c.der)).join('');
}
