import type { Logger } from '../../daemon/logger.js';
import type { SwarmBackend, TLSInfo } from '../backend.js';

// This node's certificate over time. It is renewed at a point between 50 % and 80 % of its life
// (SwarmKit's window, drawn from the serial so nodes spread out), and at once when the cluster
// wants certificates from another issuer (a root rotation: heartbeat replies carry the cluster's
// TLSInfo). When the cluster's trust root changes, the node switches to it once its certificate
// chains to it; a manager then restarts its etcd member, which reads trusted CAs only at start.
// Renewal asks POST /renew on a manager with the node's existing key.

export interface NodeCerts { caPem: string; certPem: string; keyPem: string }

export interface RenewalHost {
  log: Logger;
  /** the node's certificates, when it runs (not locked) */
  certs(): NodeCerts | undefined;
  role(): 'manager' | 'worker' | undefined;
  advertiseAddr(): string;
  /** a role change swaps certificates itself: renewal waits */
  busy(): boolean;
  /** POST to a manager (the known ones in turn) */
  call<T>(path: string, body: unknown, timeoutMs: number): Promise<T>;
  /** saves and uses new certificates for every connection from now on */
  apply(certs: NodeCerts): Promise<void>;
  /** restarts this manager's etcd member safely; false: not now, try later */
  restartEtcd(): Promise<boolean>;
  /** tells the managers this node's TLSInfo now (a heartbeat) */
  report(): void;
}

/** Longest sleep between checks (setTimeout cannot wait 90 days; clocks move). */
export const MAX_CHECK_MS = 3600_000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;

/** What the node must do now, given its certificate's renewal time, its TLSInfo and the cluster's. */
export function renewalPlan(now: number, renewAt: number, mine: TLSInfo, desired?: TLSInfo): { renew: boolean; trust: boolean } {
  const issuerDiffers = !!desired && (mine.CertIssuerSubject !== desired.CertIssuerSubject || mine.CertIssuerPublicKey !== desired.CertIssuerPublicKey);
  return {
    renew: now >= renewAt || issuerDiffers,
    trust: !!desired?.TrustRoot && desired.TrustRoot !== mine.TrustRoot,
  };
}

/** When to look again: at the renewal time, but never sleeping longer than maxMs. */
export function nextCheckDelay(now: number, renewAt: number, maxMs = MAX_CHECK_MS): number {
  return Math.max(0, Math.min(renewAt - now, maxMs));
}

/** Back-off after failed attempts: 1 s, 2 s, 4 s ... up to a minute. */
export function retryDelay(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.max(0, failures - 1));
}

export class CertRenewal {
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = false;
  private failures = 0;
  private desired?: TLSInfo;
  private etcdPending = false;
  private heldTrustRoot?: string;
  private cached?: { key: string; info: TLSInfo };

  constructor(private b: SwarmBackend, private host: RenewalHost) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * This node's TLSInfo (its trust root, the issuer of its certificate), for the heartbeat. A
   * manager reports a new trust root only once its etcd member trusts it too, so that a finished
   * rotation (`swarm ca --rotate` returning) means every TLS endpoint moved.
   */
  tlsInfo(): TLSInfo | undefined {
    const info = this.actualTlsInfo();
    return info && this.etcdPending && this.heldTrustRoot ? { ...info, TrustRoot: this.heldTrustRoot } : info;
  }

  private actualTlsInfo(): TLSInfo | undefined {
    const c = this.host.certs();
    if (!c) return undefined;
    const key = c.caPem + c.certPem;
    if (this.cached?.key !== key) this.cached = { key, info: this.b.nodeTlsInfo(c.certPem, c.caPem) };
    return this.cached.info;
  }

  /** A heartbeat reply's view of the cluster's TLSInfo: act at once when it differs from ours. */
  observe(desired: TLSInfo | undefined): void {
    if (!desired?.TrustRoot) return;
    this.desired = desired;
    const mine = this.actualTlsInfo();
    if (!mine) return;
    const p = renewalPlan(Date.now(), Infinity, mine, desired);
    if (p.renew || p.trust) this.kick();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) { this.again = true; return; }
    clearTimeout(this.timer);
    void this.run();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const c = this.host.certs();
    if (!c) return;
    let delay: number;
    if (this.again) delay = 0;
    else if (this.failures) delay = retryDelay(this.failures);
    else if (this.etcdPending) delay = 2000;
    else delay = nextCheckDelay(Date.now(), this.b.certTimes(c.certPem).renewAt.getTime());
    this.again = false;
    this.timer = setTimeout(() => void this.run(), delay);
    this.timer.unref?.();
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      if (!this.host.busy()) await this.pass();
      this.failures = 0;
    } catch (err) {
      this.failures++;
      this.host.log.warn({ err: (err as Error).message, attempt: this.failures }, 'swarm certificate renewal failed (retrying)');
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private async pass(): Promise<void> {
    const c = this.host.certs();
    const role = this.host.role();
    const mine = this.actualTlsInfo();
    if (!c || !role || !mine) return;
    const desired = this.desired;
    const plan = renewalPlan(Date.now(), this.b.certTimes(c.certPem).renewAt.getTime(), mine, desired);
    let next = c;
    // a new trust root needs a certificate that chains to it first
    if (plan.renew || (plan.trust && !this.b.issuedBy(c.certPem, desired!.TrustRoot))) {
      const res = await this.host.call<{ role: string; certPem: string }>('/renew', {
        renew: true, publicKeyPem: await this.b.publicKeyOf(c.keyPem), addr: this.host.advertiseAddr(),
      }, 30_000);
      if (res.role !== role) return; // a role change is under way: it brings its own certificate
      next = { ...next, certPem: res.certPem };
      this.host.log.info({ notAfter: this.b.certTimes(res.certPem).notAfter.toISOString() }, 'swarm node certificate renewed');
    }
    let trustChanged = false;
    if (plan.trust && this.b.issuedBy(next.certPem, desired!.TrustRoot)) {
      next = { ...next, caPem: desired!.TrustRoot };
      trustChanged = true;
      this.host.log.info('swarm trust root changed (root CA rotation)');
    }
    const changed = next.certPem !== c.certPem || next.caPem !== c.caPem;
    if (changed) await this.host.apply(next);
    if (trustChanged && role === 'manager') { this.etcdPending = true; this.heldTrustRoot = mine.TrustRoot; }
    if (this.etcdPending && this.host.role() === 'manager') {
      if (!(await this.host.restartEtcd())) return; // retried shortly (schedule)
      this.host.log.info('etcd member restarted to trust the new root');
    }
    const restarted = this.etcdPending;
    this.etcdPending = false;
    this.heldTrustRoot = undefined;
    if (changed || restarted) this.host.report();
  }
}
