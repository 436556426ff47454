// The API's TLS material (dockerd's --tls/--tlsverify): read and checked at startup, so a missing
// or bad file is one clear error before anything listens (go-connections' tlsconfig wording).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import { goFsError } from '../util/go-fs-error.js';
import type { DaemonConfig } from './config.js';

export interface ApiTls {
  cert: Buffer;
  key: Buffer;
  /** the CA certificates client certificates must chain to (only with verifyClients) */
  ca?: string[];
  /** --tlsverify: a client without a certificate signed by ca is refused */
  verifyClients: boolean;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function fail(msg: string): never {
  throw new Error(`invalid TLS configuration: ${msg}`);
}

/** undefined when TLS is off; otherwise the checked material, or an Error naming the bad file. */
export async function loadApiTls(cfg: Pick<DaemonConfig, 'tls' | 'tlsVerify' | 'tlsCaCert' | 'tlsCert' | 'tlsKey'>): Promise<ApiTls | undefined> {
  if (!cfg.tls) return undefined;
  const pair = `(cert: ${JSON.stringify(cfg.tlsCert)}, key: ${JSON.stringify(cfg.tlsKey)})`;
  let cert: Buffer;
  let key: Buffer;
  try { cert = await readFile(cfg.tlsCert); } catch (e) { fail(`Could not load X509 key pair ${pair}: ${goFsError(e, cfg.tlsCert)}`); }
  try { key = await readFile(cfg.tlsKey); } catch (e) { fail(`Could not load X509 key pair ${pair}: ${goFsError(e, cfg.tlsKey)}`); }
  try {
    const c = new X509Certificate(cert);
    if (!c.checkPrivateKey(createPrivateKey(key))) throw new Error('private key does not match public key');
  } catch (e) {
    fail(`Error reading X509 key pair ${pair}: ${(e as Error).message}. Make sure the key is not encrypted.`);
  }
  const out: ApiTls = { cert, key, verifyClients: cfg.tlsVerify };
  if (cfg.tlsVerify) {
    if (!cfg.tlsCaCert) fail('--tlsverify needs the CA that signs client certificates (--tlscacert)');
    let pem: string;
    try { pem = await readFile(cfg.tlsCaCert, 'utf8'); } catch (e) { fail(`could not read CA certificate ${JSON.stringify(cfg.tlsCaCert)}: ${goFsError(e, cfg.tlsCaCert)}`); }
    // like Go's AppendCertsFromPEM: blocks that do not parse are skipped, none at all is an error
    out.ca = (pem.match(PEM_CERT) ?? []).filter((b) => { try { new X509Certificate(b); return true; } catch { return false; } });
    if (out.ca.length === 0) fail(`failed to append certificates from PEM file: ${JSON.stringify(cfg.tlsCaCert)}`);
  }
  try { tls.createSecureContext({ cert: out.cert, key: out.key, ca: out.ca }); } catch (e) { fail((e as Error).message); }
  return out;
}

/** dockerd's warnings for a tcp:// listener that clients reach without a verified certificate. */
export const INSECURE_TCP_WARNINGS = [
  'Binding to IP address without --tlsverify is insecure and gives root access on this machine to everyone who has access to your network.',
  'Binding to an IP address, even on localhost, can also give access to scripts run in a browser. Be safe out there!',
];
