// Mutual TLS between nodes with swarm-CA certificates, and who the peer is.
// Trust is a list of CA certificates so that during a root rotation old and new roots both count.
// Clients verify the server against the name "swarm-manager", like SwarmKit (every manager cert has
// that DNS SAN), so a manager can be dialled by any address. Authorisation follows SwarmKit's
// ca/auth.go: the role comes from the certificate's OU, the cluster from its O.

import tls, { type ConnectionOptions, type PeerCertificate, type TLSSocket, type TlsOptions } from 'node:tls';
import { isIP } from 'node:net';
import { MANAGER_OU, ouToRole, roleToOU, type NodeRole } from './constants.js';
import { encodePem } from './pem.js';

export interface NodeTlsCredentials {
  /** trusted roots; each entry may itself be a PEM bundle */
  caCertPems: string[];
  certPem: string;
  keyPem: string;
}

export interface PeerIdentity { nodeId: string; role: NodeRole; clusterId: string }

/** A refused peer; SwarmKit's messages (gRPC PermissionDenied; 403 over HTTP). */
export class PermissionDeniedError extends Error {
  readonly statusCode = 403;
  constructor(message: string) { super(message); this.name = 'PermissionDeniedError'; }
}

/**
 * Options for tls.createServer / https.createServer. Client certificates are required and must
 * chain to one of the CAs, unless allowAnonymous: then clients without a valid certificate (a node
 * still joining, which only has a token) get through the handshake, and each request must be
 * checked with peerIdentity/authorizePeer, which ignore certificates that did not verify.
 */
export function serverTlsOptions(c: NodeTlsCredentials & { allowAnonymous?: boolean }): TlsOptions {
  return {
    ca: c.caCertPems,
    cert: c.certPem,
    key: c.keyPem,
    requestCert: true,
    rejectUnauthorized: !c.allowAnonymous,
    minVersion: 'TLSv1.2', // SwarmKit's floor
  };
}

export interface ClientTlsParams {
  caCertPems: string[];
  /** the node's own certificate and key; omit for an anonymous (joining) client */
  certPem?: string;
  keyPem?: string;
  /**
   * the name the server's certificate must carry: default swarm-manager (any manager); a node id
   * for one node; an IP address to check against the IP SANs (sent as no SNI, which RFC 6066 forbids for IPs)
   */
  servername?: string;
  /** when set, the server's certificate must also belong to this cluster (its O) */
  clusterId?: string;
}

/** Options for tls.connect / https.request; combine with host and port. */
export function clientTlsOptions(p: ClientTlsParams): ConnectionOptions {
  const name = p.servername ?? MANAGER_OU;
  return {
    ca: p.caCertPems,
    ...(p.certPem && p.keyPem ? { cert: p.certPem, key: p.keyPem } : {}),
    ...(isIP(name) ? {} : { servername: name }),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    // Checked against `name`, not the address dialled: a manager is reached by IP but named swarm-manager.
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const err = tls.checkServerIdentity(name, cert);
      if (err) return err;
      const org = first(cert.subject?.O);
      if (p.clusterId && org !== p.clusterId) return new Error(`server certificate belongs to cluster ${org}, not ${p.clusterId}`);
      return undefined;
    },
  };
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function all(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The verified peer's identity, or undefined when it presented no certificate that chains to our CAs. */
export function peerIdentity(socket: TLSSocket): PeerIdentity | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  const s = cert?.subject as unknown as Record<string, string | string[] | undefined> | undefined;
  if (!s) return undefined;
  const role = all(s.OU).map(ouToRole).find((r) => r !== undefined);
  const nodeId = first(s.CN);
  const clusterId = first(s.O);
  if (!role || !nodeId || !clusterId) return undefined;
  return { nodeId, role, clusterId };
}

/** The peer's leaf certificate as PEM (e.g. to record a node's cert), if it sent one. */
export function peerCertificatePem(socket: TLSSocket): string | undefined {
  const raw = socket.getPeerCertificate()?.raw;
  return raw?.length ? encodePem('CERTIFICATE', raw) : undefined;
}

export interface AuthorizeOptions {
  /** allowed roles; any when omitted */
  roles?: NodeRole[];
  /** the cluster's id: certificates of other clusters (same CA reused) are refused */
  clusterId?: string;
  /** node ids removed from the swarm, whose certificates may still be unexpired */
  isRemoved?: (nodeId: string) => boolean;
}

/** The peer's identity, or PermissionDeniedError with SwarmKit's text (ca/auth.go), checks in its order. */
export function authorizePeer(socket: TLSSocket, o: AuthorizeOptions = {}): PeerIdentity {
  const peer = peerIdentity(socket);
  // SwarmKit's wording, typo included.
  if (!peer) throw new PermissionDeniedError("Permission denied: peer didn't not present valid peer certificate");
  if (o.roles && !o.roles.includes(peer.role)) {
    throw new PermissionDeniedError(`Permission denied: remote certificate not part of OUs: [${o.roles.map(roleToOU).join(' ')}]`);
  }
  if (o.isRemoved?.(peer.nodeId)) throw new PermissionDeniedError(`Permission denied: node ${peer.nodeId} was removed from swarm`);
  if (o.clusterId !== undefined && peer.clusterId !== o.clusterId) {
    throw new PermissionDeniedError(`Permission denied: remote certificate not part of organization: ${o.clusterId}`);
  }
  return peer;
}

/** Shorthand: the peer must hold one of these roles (and belong to clusterId when given). */
export function requireRole(socket: TLSSocket, role: NodeRole | NodeRole[], clusterId?: string): PeerIdentity {
  return authorizePeer(socket, { roles: Array.isArray(role) ? role : [role], clusterId });
}
