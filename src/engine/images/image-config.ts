// Image config JSON shaped like Docker's Go structs (key order and omitempty rules), so the bytes
// we hash into an image ID look like the ones dockerd would write.

export const DOCKER_VERSION = '20.10.24';

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
export function hostArch(): string { return GO_ARCH[process.arch] ?? process.arch; }

/** Go's RFC3339Nano: trailing zeros of the fraction are dropped. */
export function goTime(d: Date): string {
  return d.toISOString().replace(/\.?0+Z$/, 'Z');
}

/** Parses RFC3339 with any number of fraction digits (Go writes nanoseconds). */
export function parseTime(s: string | undefined): number {
  if (!s) return 0;
  const t = Date.parse(s.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(t) ? 0 : t;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** container.Config with Go's field order; omitempty fields are dropped when empty. */
export function containerConfig(c: Record<string, any> = {}): Record<string, any> {
  const out: Record<string, any> = {};
  const put = (k: string, dflt: unknown, omitEmpty = false) => {
    const v = c[k];
    const empty = v === undefined || v === null || v === '' || v === false || v === 0
      || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);
    if (omitEmpty && empty) return;
    out[k] = v === undefined ? dflt : v;
  };
  put('Hostname', ''); put('Domainname', ''); put('User', '');
  put('AttachStdin', false); put('AttachStdout', false); put('AttachStderr', false);
  put('ExposedPorts', null, true);
  put('Tty', false); put('OpenStdin', false); put('StdinOnce', false);
  put('Env', null); put('Cmd', null);
  put('Healthcheck', null, true); put('ArgsEscaped', false, true);
  put('Image', ''); put('Volumes', null); put('WorkingDir', ''); put('Entrypoint', null);
  put('NetworkDisabled', false, true); put('MacAddress', '', true);
  put('OnBuild', null); put('Labels', null);
  put('StopSignal', '', true); put('StopTimeout', null, true); put('Shell', null, true);
  return out;
}

/** The config `docker import` writes: one layer, one history entry. */
export function importConfig(o: { diffId: string; config: Record<string, any>; comment: string; created: Date; arch: string; os: string }): Record<string, any> {
  const created = goTime(o.created);
  return {
    comment: o.comment,
    created,
    container_config: containerConfig(),
    docker_version: DOCKER_VERSION,
    config: containerConfig(o.config),
    architecture: o.arch,
    os: o.os,
    rootfs: { type: 'layers', diff_ids: [o.diffId] },
    history: [{ created, comment: o.comment }],
  };
}

/** diffID of a layer tar with no entries: a commit without changes adds a history entry, no layer. */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface ChildOptions {
  /** undefined for an empty layer */
  diffId?: string;
  config: Record<string, any>;
  containerConfig: Record<string, any>;
  container: string;
  author: string;
  comment: string;
  created: Date;
}

/** The config `docker commit` writes (Docker's NewChildImage): the parent's layers and history plus one. */
export function childConfig(parent: Record<string, any>, o: ChildOptions): Record<string, any> {
  const created = goTime(o.created);
  const createdBy = (o.containerConfig.Cmd ?? []).join(' ');
  const history = {
    created, ...(o.author ? { author: o.author } : {}), ...(createdBy ? { created_by: createdBy } : {}),
    ...(o.comment ? { comment: o.comment } : {}), ...(o.diffId ? {} : { empty_layer: true }),
  };
  return {
    created, container: o.container, container_config: containerConfig(o.containerConfig), docker_version: DOCKER_VERSION,
    ...(o.author ? { author: o.author } : {}), config: containerConfig(o.config),
    architecture: parent.architecture || hostArch(), ...(parent.variant ? { variant: parent.variant } : {}), os: parent.os || 'linux',
    rootfs: { type: 'layers', diff_ids: [...(parent.rootfs?.diff_ids ?? []), ...(o.diffId ? [o.diffId] : [])] },
    history: [...(parent.history ?? []), history],
    ...(parent['os.version'] ? { 'os.version': parent['os.version'] } : {}),
    ...(parent['os.features'] ? { 'os.features': parent['os.features'] } : {}),
  };
}
