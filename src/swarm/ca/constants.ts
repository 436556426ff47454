// SwarmKit's CA defaults, in one place (moby/swarmkit ca/certificates.go, ca/config.go).

export type NodeRole = 'manager' | 'worker';

/** Subject CN of the root CA SwarmKit creates. */
export const ROOT_CA_CN = 'swarm-ca';
/** Certificate OUs; RPC authorisation reads them, so they are the role. */
export const MANAGER_OU = 'swarm-manager';
export const WORKER_OU = 'swarm-worker';
/** Managers also carry this DNS SAN: in SwarmKit they are the CA servers joiners dial. */
export const CA_SAN = 'swarm-ca';

export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;
export const YEAR_MS = 365 * DAY_MS;
/** RootCAExpiration = 630720000 s: 20 years of 365 days. */
export const ROOT_CA_VALIDITY_MS = 630_720_000_000;
/** DefaultNodeCertExpiration = 2160 h. */
export const NODE_CERT_VALIDITY_MS = 2160 * HOUR_MS;
/** MinNodeCertExpiration: shorter requests get the default instead (SwarmKit's SigningPolicy). */
export const MIN_NODE_CERT_VALIDITY_MS = HOUR_MS;
/** CertBackdate: notBefore lies this far in the past so peers with a slow clock accept the cert. */
export const CERT_BACKDATE_MS = HOUR_MS;
/** CertLowerRotationRange / CertUpperRotationRange: renew at a random point in this span of the life. */
export const RENEW_AT_LOWER = 0.5;
export const RENEW_AT_UPPER = 0.8;

export function roleToOU(role: NodeRole): string {
  return role === 'manager' ? MANAGER_OU : WORKER_OU;
}

export function ouToRole(ou: string | undefined): NodeRole | undefined {
  return ou === MANAGER_OU ? 'manager' : ou === WORKER_OU ? 'worker' : undefined;
}
