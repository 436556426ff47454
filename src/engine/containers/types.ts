import type { MountPoint } from './mounts.js';

// The persisted container record. Field names follow Docker's inspect JSON so the API can
// return it with few transformations; private bookkeeping lives under `shoal`.
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy' | 'none';
  FailingStreak: number;
  Log: { Start: string; End: string; ExitCode: number; Output: string }[];
}

export interface ContainerState {
  Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

export interface ContainerRecord {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerState;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: any;
  Config: any;
  NetworkSettings: any;
  Mounts: any[];
  shoal: {
    /** Set by an explicit stop/kill from a user: restart policies must not bring it back. */
    manuallyStopped: boolean;
    /** Mounted overlay rootfs (while running). */
    rootfsMounted?: boolean;
    /** Path of the container's network namespace file, when it has its own. */
    netnsPath?: string;
    cgroupPath: string;
    conmonPid?: number;
    /** Resolved binds, volumes and tmpfs mounts (mounts.ts). */
    mountPoints?: MountPoint[];
    /** Interfaces in the container's namespace, per network ID (while running). */
    endpoints?: Record<string, { ifname: string; hostIf?: string; dns: boolean }>;
    /**
     * The hidden endpoint on docker_gwbridge of a container only on overlays (its way out and to the
     * embedded DNS): not in NetworkSettings.Networks, as Docker hides it (while running).
     */
    gateway?: { networkId: string; endpointId: string; ip: string; prefix: number; mac: string };
  };
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function freshState(): ContainerState {
  return {
    Status: 'created', Running: false, Paused: false, Restarting: false, OOMKilled: false, Dead: false,
    Pid: 0, ExitCode: 0, Error: '', StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME,
  };
}
