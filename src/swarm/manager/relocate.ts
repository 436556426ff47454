import type { SwarmBackend, SwarmStore } from '../backend.js';
import { issueNodeCertNow } from './ca-rotation.js';
import { KEY, type ClusterObject, type NodeObject } from './objects.js';

// A manager whose swarm directory was restored on another machine (Docker's backup/restore: copy
// <data-root>/swarm, then `swarm init --force-new-cluster --advertise-addr NEW`): once its etcd
// member runs as a one-member cluster, it takes a certificate naming its new address (etcd peers
// check IP SANs), moves its member's peer URL there, and corrects its node object.

export async function relocateManager(b: SwarmBackend, store: SwarmStore, o: { nodeId: string; addr: string; peerPort: number; certs: { caPem: string; certPem: string; keyPem: string } }): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const ip = o.addr.split(':')[0]!;
  const cluster = await store.get<ClusterObject>(KEY.cluster);
  if (!cluster) throw new Error('the restored swarm has no cluster object');
  const certPem = await issueNodeCertNow(b, store, cluster, { nodeId: o.nodeId, role: 'manager', ips: [ip], publicKeyPem: await b.publicKeyOf(o.certs.keyPem) });
  await store.updateMemberPeerUrl(o.nodeId, `https://${ip}:${o.peerPort}`);
  await store.update<NodeObject>(KEY.node(o.nodeId), (n) => ({
    ...n, UpdatedAt: new Date().toISOString(), Status: { ...n.Status, Addr: ip },
    ...(n.ManagerStatus ? { ManagerStatus: { ...n.ManagerStatus, Addr: o.addr } } : {}),
  }));
  return { ...o.certs, caPem: cluster.TLSInfo.TrustRoot, certPem };
}
