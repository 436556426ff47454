// TLS to a tcp:// daemon with the docker CLI's semantics: --tls, --tlsverify (which implies --tls,
// even as --tlsverify=false), --tlscacert/--tlscert/--tlskey, the environment DOCKER_TLS_VERIFY,
// DOCKER_TLS and DOCKER_CERT_PATH (default $DOCKER_CONFIG or ~/.docker), and its error messages.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { goFsError } from '../util/go-fs-error.js';

/** the docker CLI's default host when TLS is on and no host is given */
export const DEFAULT_TLS_HOST = 'tcp://localhost:2376';

export interface TlsFlags {
  tls?: boolean;
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  /** the flags given on the command line (a given flag wins over the environment and defaults) */
  changed: Set<string>;
}

/** Which files to read; '' = none. */
export interface TlsFiles { verify: boolean; ca: string; cert: string; key: string }

/** What the client hands to node:tls. */
export interface ClientTls { verify: boolean; ca?: Buffer; cert?: Buffer; key?: Buffer }

/** Where ca.pem, cert.pem and key.pem are looked for. */
export function certDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CERT_PATH || env.DOCKER_CONFIG || path.join(os.homedir(), '.docker');
}

/** undefined when TLS is off. */
export function tlsFiles(f: TlsFlags, env: NodeJS.ProcessEnv, exists: (p: string) => boolean = existsSync): TlsFiles | undefined {
  const verify = f.changed.has('tlsverify') ? !!f.tlsverify : !!env.DOCKER_TLS_VERIFY;
  let on = f.changed.has('tls') ? !!f.tls : !!env.DOCKER_TLS;
  if (f.changed.has('tlsverify') || verify) on = true;
  if (!on) return undefined;
  const dir = certDir(env);
  // a default client certificate or key that does not exist is simply not sent; a named one must exist
  const pick = (flag: 'tlscert' | 'tlskey', file: string): string => {
    if (f.changed.has(flag)) return f[flag] ?? '';
    const p = path.join(dir, file);
    return exists(p) ? p : '';
  };
  return {
    verify,
    ca: f.changed.has('tlscacert') ? f.tlscacert ?? '' : path.join(dir, 'ca.pem'),
    cert: pick('tlscert', 'cert.pem'),
    key: pick('tlskey', 'key.pem'),
  };
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads and checks the files; the Error says what the docker CLI says after "Failed to initialize: ". */
export function loadClientTls(files: TlsFiles): ClientTls {
  const read = (p: string): Buffer | undefined => {
    if (!p) return undefined;
    try { return readFileSync(p); } catch (e) { throw new Error(`unable to resolve docker endpoint: ${goFsError(e, p)}`); }
  };
  const ca = read(files.ca);
  const cert = read(files.cert);
  const key = read(files.key);
  const out: ClientTls = { verify: files.verify };
  if (ca) {
    const certs = (ca.toString('latin1').match(PEM_CERT) ?? []).filter((b) => { try { new X509Certificate(b); return true; } catch { return false; } });
    if (certs.length === 0) throw new Error('failed to retrieve context tls info: ca.pem seems invalid');
    out.ca = ca;
  }
  // a certificate without its key (or the other way round) is not used, as in the docker CLI
  if (cert && key) {
    const blocks = [...key.toString('latin1').matchAll(PEM_BLOCK)];
    if (blocks.length === 0) throw new Error('no valid private key found');
    if (blocks.some((b) => b[1] === 'ENCRYPTED PRIVATE KEY' || /Proc-Type: 4,ENCRYPTED/.test(b[2]!))) {
      throw new Error('private key is encrypted - support for encrypted private keys has been removed, see https://docs.docker.com/go/deprecated/');
    }
    try {
      if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) throw new Error('tls: private key does not match public key');
    } catch (e) {
      throw new Error(`failed to retrieve context tls info: ${(e as Error).message}`);
    }
    out.cert = cert;
    out.key = key;
  }
  return out;
}
