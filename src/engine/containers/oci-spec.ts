// Builds the OCI runtime spec (runc's config.json) for a container: a pure function of the
// container record and host-side facts, so it can be unit-tested without runc.

export const DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const ALL_CAPS = [
  ...DEFAULT_CAPS, 'CAP_DAC_READ_SEARCH', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_LEASE', 'CAP_AUDIT_CONTROL',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
];

export interface SpecMount { destination: string; type: string; source: string; options: string[] }

export interface SpecInput {
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  tty: boolean;
  hostname: string;
  readonlyRootfs: boolean;
  /** Path of a network namespace to join; 'host' to share the daemon's; undefined for a new one. */
  netns?: string;
  /** /proc/<pid>/ns/<type> of another container, for --ipc/--pid container:X (not yet used). */
  cgroupsPath: string;
  mounts: SpecMount[];
  memory?: number;
  memorySwap?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  pidsLimit?: number;
  capAdd?: string[];
  capDrop?: string[];
  privileged?: boolean;
  oomScoreAdj?: number;
}

function normCap(c: string): string {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u : 'CAP_' + u;
}

export function capabilities(input: Pick<SpecInput, 'capAdd' | 'capDrop' | 'privileged'>): string[] {
  if (input.privileged) return [...ALL_CAPS];
  const add = (input.capAdd ?? []).map(normCap);
  const drop = (input.capDrop ?? []).map(normCap);
  let caps = add.includes('CAP_ALL') ? [...ALL_CAPS] : [...DEFAULT_CAPS, ...add.filter((c) => !DEFAULT_CAPS.includes(c))];
  if (drop.includes('CAP_ALL')) caps = add.filter((c) => c !== 'CAP_ALL');
  else caps = caps.filter((c) => !drop.includes(c));
  return caps;
}

export function buildSpec(i: SpecInput): any {
  const caps = capabilities(i);
  const namespaces: any[] = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }];
  if (i.netns !== 'host') namespaces.push(i.netns ? { type: 'network', path: i.netns } : { type: 'network' });
  const resources: any = {
    devices: [
      { allow: false, access: 'rwm' },
      // Docker's default device allow-list.
      ...[[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 1], [5, 2]].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
      { allow: true, type: 'c', major: 136, access: 'rwm' },
      { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
    ],
  };
  if (i.privileged) resources.devices = [{ allow: true, access: 'rwm' }];
  if (i.memory) {
    resources.memory = { limit: i.memory };
    // Docker: swap defaults to twice the memory limit; -1 means unlimited.
    if (i.memorySwap !== undefined && i.memorySwap !== 0) resources.memory.swap = i.memorySwap;
    else resources.memory.swap = i.memory * 2;
  }
  if (i.cpuQuota || i.cpuShares || i.cpusetCpus) {
    resources.cpu = {};
    if (i.cpuQuota) { resources.cpu.quota = i.cpuQuota; resources.cpu.period = i.cpuPeriod || 100000; }
    if (i.cpuShares) resources.cpu.shares = i.cpuShares;
    if (i.cpusetCpus) resources.cpu.cpus = i.cpusetCpus;
  }
  if (i.pidsLimit && i.pidsLimit > 0) resources.pids = { limit: i.pidsLimit };

  const baseMounts: SpecMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', i.privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', i.privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
  ];
  // A netns shared with the host cannot mount a fresh sysfs for it, so bind the host's.
  if (i.netns === 'host') baseMounts[3] = { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
  const userDests = new Set(i.mounts.map((m) => m.destination));
  const mounts = [...baseMounts.filter((m) => !userDests.has(m.destination)), ...i.mounts];

  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: i.tty,
      user: { uid: i.uid, gid: i.gid, additionalGids: i.additionalGids.length ? i.additionalGids : undefined },
      args: i.args,
      env: i.env,
      cwd: i.cwd || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: caps },
      noNewPrivileges: false,
      oomScoreAdj: i.oomScoreAdj,
    },
    root: { path: i.rootfs, readonly: i.readonlyRootfs },
    hostname: i.hostname,
    mounts,
    linux: {
      resources,
      cgroupsPath: i.cgroupsPath,
      namespaces,
      maskedPaths: i.privileged ? [] : ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware'],
      readonlyPaths: i.privileged ? [] : ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
