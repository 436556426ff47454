import { BadRequest, ServerError } from '../../api/errors.js';
import type { SwarmBackend, SwarmStore, TLSInfo } from '../backend.js';
import { KEY, NODE_CERT_EXPIRY_NS, type ClusterObject, type NodeObject } from './objects.js';

// The cluster's root CA over time, on the managers: which CA signs node certificates now, a root
// rotation started by a swarm update (Spec.CAConfig.ForceRotate changed, or a signing CA given),
// and its end once every node holds a certificate from the new root. As in SwarmKit, nodes keep
// trusting the old root during the rotation: certificates issued meanwhile carry the new root
// cross-signed by the old one, so they verify under either root. The CA material lives in KEY.ca
// alone (one key, so starting and finishing are single compare-and-swap writes); the cluster
// object's TLSInfo, RootRotationInProgress and join tokens are derived from it (withCA).

export interface RootRotation { certPem: string; keyPem: string; crossSignedPem: string }
export interface StoredCA { certPem: string; keyPem: string; rotation?: RootRotation }

/** SwarmKit's MinNodeCertExpiration (1 h) */
export const MIN_NODE_CERT_EXPIRY_NS = 3600e9;

/**
 * The shortest NodeCertExpiry accepted: SwarmKit's hour, unless SHOAL_SWARM_MIN_CERT_EXPIRY_MS
 * lowers it (a debug setting, so tests can watch certificates renew within seconds).
 */
export function minCertExpiryNs(): number {
  const debug = Number(process.env.SHOAL_SWARM_MIN_CERT_EXPIRY_MS);
  return debug > 0 ? Math.min(debug * 1e6, MIN_NODE_CERT_EXPIRY_NS) : MIN_NODE_CERT_EXPIRY_NS;
}

function invalid(msg: string): BadRequest {
  return new BadRequest(`rpc error: code = InvalidArgument desc = ${msg}`);
}

/** SwarmKit's checks of an update's CAConfig that need no CA material. */
export function validateCAConfig(ca: any): void {
  if (!ca || typeof ca !== 'object') return;
  const exp = ca.NodeCertExpiry;
  const min = minCertExpiryNs();
  if (exp !== undefined && exp !== 0 && !(typeof exp === 'number' && exp >= min)) {
    throw invalid(`minimum certificate expiry time is: ${min === MIN_NODE_CERT_EXPIRY_NS ? '1h0m0s' : `${min / 1e6}ms`}`);
  }
  if (ca.SigningCAKey && !ca.SigningCACert) throw invalid('if a signing CA key is provided, the signing CA cert must also be provided');
  // shoal has no external CAs: a new root without its key could sign nothing
  if (ca.SigningCACert && !ca.SigningCAKey) throw invalid('there must be at least one valid, reachable external CA corresponding to the desired CA certificate');
}

/** The CAConfig kept in the spec: the signing CA is an input, never stored nor returned; 0 keeps the expiry. */
export function storedCAConfig(next: any, cur: any): any {
  const { SigningCACert: _c, SigningCAKey: _k, ...rest } = next && typeof next === 'object' ? next : {} as any;
  const out = { ...rest, NodeCertExpiry: rest.NodeCertExpiry || cur?.NodeCertExpiry || NODE_CERT_EXPIRY_NS };
  if (!out.ForceRotate) delete out.ForceRotate;
  return out;
}

/**
 * How long certificates issued now live: NodeCertExpiry. Below an hour (only with the debug floor)
 * they are not backdated either, or renewal (at 50-80 % of the whole validity) would be due at once.
 */
export function certValidity(caConfig: any): { validityMs: number; minValidityMs?: number; backdateMs?: number } {
  const ms = (caConfig?.NodeCertExpiry || NODE_CERT_EXPIRY_NS) / 1e6;
  const floorMs = minCertExpiryNs() / 1e6;
  if (ms < MIN_NODE_CERT_EXPIRY_NS / 1e6 && ms >= floorMs) return { validityMs: ms, minValidityMs: floorMs, backdateMs: 0 };
  return { validityMs: ms };
}

/** The CA that signs now: the rotation's new root (sent with its cross-signed certificate), else the root. */
export async function issueNodeCertNow(b: SwarmBackend, store: SwarmStore, cluster: ClusterObject, o: { nodeId: string; role: 'manager' | 'worker'; ips: string[]; publicKeyPem: string }): Promise<string> {
  const ca = await store.get<StoredCA>(KEY.ca);
  if (!ca) throw new ServerError('the swarm has no CA');
  const signer = ca.rotation ? { certPem: ca.rotation.certPem, keyPem: ca.rotation.keyPem } : { certPem: ca.certPem, keyPem: ca.keyPem };
  const cert = await b.issueNodeCert(signer, { ...o, clusterId: cluster.ID, ...certValidity(cluster.Spec.CAConfig), chainPem: ca.rotation?.crossSignedPem });
  return cert.certPem;
}

/**
 * What an update's CAConfig does to the CA (SwarmKit's validateCAConfig): a new rotation when
 * ForceRotate changed or another signing CA is given (replacing a rotation under way), the end of
 * a rotation when the current root is given back; undefined when nothing changes.
 */
export async function planRootCA(b: SwarmBackend, ca: StoredCA, curCA: any, nextCA: any): Promise<StoredCA | undefined> {
  const root = { certPem: ca.certPem, keyPem: ca.keyPem };
  const given = nextCA?.SigningCACert ? String(nextCA.SigningCACert) : '';
  if (!given) {
    if (Number(nextCA?.ForceRotate ?? 0) === Number(curCA?.ForceRotate ?? 0)) return undefined;
    const fresh = await b.createRootCA();
    return { ...root, rotation: { certPem: fresh.certPem, keyPem: fresh.keyPem, crossSignedPem: await b.crossSignRoot(root, fresh.certPem) } };
  }
  const keyPem = String(nextCA.SigningCAKey ?? '');
  let cert: string;
  try { cert = await b.checkSigningCA(given, keyPem); } catch (e) { throw invalid((e as Error).message); }
  if (cert === b.canonicalCertPem(ca.certPem)) return ca.rotation ? root : undefined;
  if (b.samePublicKey(cert, ca.certPem)) throw invalid('Cannot update to a cert with an identical key');
  if (ca.rotation && cert === b.canonicalCertPem(ca.rotation.certPem)) return undefined;
  return { ...root, rotation: { certPem: cert, keyPem, crossSignedPem: await b.crossSignRoot(root, cert) } };
}

/**
 * Before a swarm update's cluster write: checks the CAConfig and, if it starts or ends a rotation,
 * writes the CA. Returns the CA the cluster object must reflect.
 */
export async function rootCAUpdate(b: SwarmBackend, store: SwarmStore, version: number, spec: any): Promise<StoredCA> {
  validateCAConfig(spec?.CAConfig);
  const [cluster, ca] = await Promise.all([store.getWithVersion<ClusterObject>(KEY.cluster), store.getWithVersion<StoredCA>(KEY.ca)]);
  if (!cluster || !ca) throw new ServerError('the swarm is not ready yet');
  // a stale version fails the cluster's compare-and-swap anyway: start nothing for it
  if (cluster.version !== version) return ca.value;
  const next = await planRootCA(b, ca.value, cluster.value.Spec.CAConfig, spec?.CAConfig);
  if (!next) return ca.value;
  await store.update<StoredCA>(KEY.ca, () => next, ca.version);
  return next;
}

/** The cluster object as the CA says (the same object when nothing differs). */
export function withCA(c: ClusterObject, ca: StoredCA, b: SwarmBackend): ClusterObject {
  const root = b.tlsInfo(ca.certPem);
  const issuer = ca.rotation ? b.tlsInfo(ca.rotation.certPem) : root;
  const tls: TLSInfo = { TrustRoot: root.TrustRoot, CertIssuerSubject: issuer.CertIssuerSubject, CertIssuerPublicKey: issuer.CertIssuerPublicKey };
  const inProgress = !!ca.rotation;
  const rootChanged = c.TLSInfo?.TrustRoot !== tls.TrustRoot;
  if (!rootChanged && sameIssuer(c.TLSInfo, tls) && c.RootRotationInProgress === inProgress) return c;
  return {
    ...c, TLSInfo: tls, RootRotationInProgress: inProgress, UpdatedAt: new Date().toISOString(),
    // tokens pin the root by its digest: a new root means new tokens (SwarmKit's finishRootRotation)
    JoinTokens: rootChanged ? { Worker: b.joinToken(ca.certPem), Manager: b.joinToken(ca.certPem) } : c.JoinTokens,
  };
}

function sameIssuer(a: Partial<TLSInfo> | undefined, b: Partial<TLSInfo> | undefined): boolean {
  return !!a && !!b && a.CertIssuerSubject === b.CertIssuerSubject && a.CertIssuerPublicKey === b.CertIssuerPublicKey;
}

/** Every node reports a certificate from this issuer (SwarmKit waits for all nodes, down ones included). */
export function rotationConverged(nodes: Pick<NodeObject, 'Description'>[], issuer: Pick<TLSInfo, 'CertIssuerSubject' | 'CertIssuerPublicKey'>): boolean {
  return nodes.every((n) => sameIssuer(n.Description?.TLSInfo, issuer));
}

/** Leader, every pass: finishes a converged rotation and keeps the cluster object in line with the CA. */
export async function reconcileRootCA(b: SwarmBackend, store: SwarmStore): Promise<void> {
  const ca = await store.getWithVersion<StoredCA>(KEY.ca);
  if (!ca) return;
  let cur = ca.value;
  if (cur.rotation) {
    const nodes = await store.list<NodeObject>(KEY.nodes);
    if (rotationConverged(nodes, b.tlsInfo(cur.rotation.certPem))) {
      const done: StoredCA = { certPem: cur.rotation.certPem, keyPem: cur.rotation.keyPem };
      await store.update<StoredCA>(KEY.ca, () => done, ca.version);
      cur = done;
    }
  }
  const c = await store.getWithVersion<ClusterObject>(KEY.cluster);
  if (!c) return;
  const next = withCA(c.value, cur, b);
  if (next !== c.value) await store.update<ClusterObject>(KEY.cluster, () => next, c.version);
}

/** A node's heartbeat tells its TLSInfo (trust root, issuer of its certificate): kept in its Description. */
export async function recordNodeTlsInfo(store: SwarmStore, node: NodeObject | undefined, reported: any): Promise<void> {
  if (!node || !reported || typeof reported.TrustRoot !== 'string' || reported.TrustRoot.length > 65536) return;
  const tls: TLSInfo = { TrustRoot: reported.TrustRoot, CertIssuerSubject: String(reported.CertIssuerSubject ?? ''), CertIssuerPublicKey: String(reported.CertIssuerPublicKey ?? '') };
  const cur = node.Description?.TLSInfo;
  if (cur?.TrustRoot === tls.TrustRoot && sameIssuer(cur, tls)) return;
  await store.update<NodeObject>(KEY.node(node.ID), (n) => ({ ...n, Description: { ...n.Description, TLSInfo: tls } }));
}
