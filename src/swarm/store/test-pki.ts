/**
 * Test helper: a throwaway CA and node certificates shaped like swarm node certs (ECDSA P-256,
 * O=<cluster>, OU=swarm-manager, CN=<node id>, SAN IP, EKU serverAuth+clientAuth), made with openssl.
 * Only for tests; the real CA lives in src/swarm/ca.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { runOk } from '../../util/exec.js';

export interface TestCert { certFile: string; keyFile: string }

export interface TestPki {
  dir: string;
  caFile: string;
  /** Issues a node certificate signed by this CA. */
  issue(nodeId: string, opts?: { ips?: string[]; org?: string; ou?: string }): Promise<TestCert>;
}

export async function makeTestPki(dir: string, cluster = 'testcluster', caName = 'swarm-ca'): Promise<TestPki> {
  fs.mkdirSync(dir, { recursive: true });
  const caKey = path.join(dir, 'ca.key');
  const caFile = path.join(dir, 'ca.crt');
  await runOk('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey]);
  await runOk('openssl', ['req', '-x509', '-new', '-key', caKey, '-sha256', '-days', '2', '-subj', `/CN=${caName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', caFile]);
  return {
    dir,
    caFile,
    async issue(nodeId, opts = {}) {
      const base = path.join(dir, nodeId);
      const keyFile = `${base}.key`;
      const certFile = `${base}.crt`;
      const ext = `${base}.ext`;
      const ips = opts.ips ?? ['127.0.0.1'];
      fs.writeFileSync(ext, [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
        `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')}`,
      ].join('\n') + '\n');
      await runOk('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
      await runOk('openssl', ['req', '-new', '-key', keyFile, '-subj', `/O=${opts.org ?? cluster}/OU=${opts.ou ?? 'swarm-manager'}/CN=${nodeId}`, '-out', `${base}.csr`]);
      await runOk('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', caFile, '-CAkey', caKey, '-set_serial', `0x${randomBytes(8).toString('hex')}`,
        '-days', '2', '-sha256', '-extfile', ext, '-out', certFile]);
      return { certFile, keyFile };
    },
  };
}
