// `service inspect --pretty`: docker's human-readable service view (its template, raw tabs).
import { bytesSize, goDuration } from '../../util/go-units.js';



function updateBlock(name: 'UpdateConfig' | 'RollbackConfig', c: any): string[] {
  const l = [`${name}:`, ` Parallelism:\t${c.Parallelism ?? 0}`];
  if (c.Delay) l.push(` Delay:\t\t${goDuration(c.Delay)}`);
  l.push(` On failure:\t${c.FailureAction ?? 'pause'}`);
  if (c.Monitor) l.push(` Monitoring Period: ${goDuration(c.Monitor)}`);
  l.push(` Max failure ratio: ${c.MaxFailureRatio ?? 0}`, ` ${name === 'UpdateConfig' ? 'Update' : 'Rollback'} order:      ${c.Order ?? 'stop-first'}`);
  return l;
}

export function prettyService(s: any): string {
  const spec = s.Spec ?? {};
  const tt = spec.TaskTemplate ?? {};
  const cs = tt.ContainerSpec ?? {};
  const l = ['', `ID:\t\t${s.ID}`, `Name:\t\t${spec.Name}`];
  const labels = Object.entries(spec.Labels ?? {});
  if (labels.length) { l.push('Labels:'); for (const [k, v] of labels.sort()) l.push(` ${k}${v ? `=${v}` : ''}`); }
  const m = spec.Mode ?? {};
  if (m.Global) l.push('Service Mode:\tGlobal');
  else if (m.Replicated) { l.push('Service Mode:\tReplicated'); if (m.Replicated.Replicas !== undefined) l.push(` Replicas:\t${m.Replicated.Replicas}`); }
  else if (m.ReplicatedJob) l.push('Service Mode:\tReplicated job');
  else if (m.GlobalJob) l.push('Service Mode:\tGlobal job');
  else l.push('Service Mode:');
  const us = s.UpdateStatus;
  if (us) {
    l.push('UpdateStatus:', ` State:\t\t${us.State}`);
    if (us.StartedAt) l.push(` Started:\t${ago(us.StartedAt)}`);
    if (us.State === 'completed' && us.CompletedAt) l.push(` Completed:\t${ago(us.CompletedAt)}`);
    l.push(` Message:\t${us.Message ?? ''}`);
  }
  l.push('Placement:');
  const p = tt.Placement ?? {};
  if (p.Constraints?.length) l.push(` Constraints:\t[${p.Constraints.join(' ')}]`);
  if (p.Preferences?.length) l.push(` Preferences:   [${p.Preferences.map((x: any) => `{{${x.Spread?.SpreadDescriptor ?? ''}}}`).join(' ')}]`);
  if (p.MaxReplicas) l.push(` Max Replicas Per Node:   ${p.MaxReplicas}`);
  if (spec.UpdateConfig) l.push(...updateBlock('UpdateConfig', spec.UpdateConfig));
  if (spec.RollbackConfig) l.push(...updateBlock('RollbackConfig', spec.RollbackConfig));
  l.push('ContainerSpec:', ` Image:\t\t${cs.Image ?? ''}`);
  if (cs.Args?.length) l.push(` Args:\t\t${cs.Args.map((a: string) => `${a} `).join('')}`);
  if (cs.Env?.length) l.push(` Env:\t\t${cs.Env.map((e: string) => `${e} `).join('')}`);
  if (cs.Dir) l.push(` Dir:\t\t${cs.Dir}`);
  if (cs.Init !== undefined && cs.Init !== null) l.push(` Init:\t\t${cs.Init}`);
  if (cs.User) l.push(` User: ${cs.User}`);
  if (cs.Mounts?.length) {
    l.push('Mounts:');
    for (const mt of cs.Mounts) l.push(` Target:\t${mt.Target}`, `  Source:\t${mt.Source ?? ''}`, `  ReadOnly:\t${!!mt.ReadOnly}`, `  Type:\t\t${mt.Type}`);
  }
  const r = tt.Resources ?? {};
  const res = r.Reservations ?? {}; const lim = r.Limits ?? {};
  if (res.NanoCPUs || res.MemoryBytes || lim.NanoCPUs || lim.MemoryBytes) {
    l.push('Resources:');
    if (res.NanoCPUs || res.MemoryBytes) {
      l.push(' Reservations:');
      if (res.NanoCPUs) l.push(`  CPU:\t\t${res.NanoCPUs / 1e9}`);
      if (res.MemoryBytes) l.push(`  Memory:\t${bytesSize(res.MemoryBytes)}`);
    }
    if (lim.NanoCPUs || lim.MemoryBytes) {
      l.push(' Limits:');
      if (lim.NanoCPUs) l.push(`  CPU:\t\t${lim.NanoCPUs / 1e9}`);
      if (lim.MemoryBytes) l.push(`  Memory:\t${bytesSize(lim.MemoryBytes)}`);
    }
  }
  if (lim.Pids > 0) l.push(`  PIDs:\t\t${lim.Pids}`);
  l.push(`Endpoint Mode:\t${spec.EndpointSpec?.Mode ?? s.Endpoint?.Spec?.Mode ?? 'vip'}`);
  const hc = cs.Healthcheck;
  if (hc && hc.Test?.[0] !== 'NONE') {
    l.push(' Healthcheck:', `  Interval = ${goDuration(hc.Interval ?? 0)}`, `  Retries = ${hc.Retries ?? 0}`, `  StartPeriod =\t${goDuration(hc.StartPeriod ?? 0)}`, `  Timeout =\t${goDuration(hc.Timeout ?? 0)}`);
    if (hc.Test?.length) { l.push('  Tests:'); for (const t of hc.Test) l.push(`\t Test = ${t}`); }
  }
  return l.join('\n') + '\n';
}

function ago(ts: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(ts)) / 1000));
  const h = s < 60 ? (s <= 1 ? 'Less than a second' : `${s} seconds`) : s < 3600 ? `${Math.round(s / 60)} minute${Math.round(s / 60) === 1 ? '' : 's'}` : `${Math.round(s / 3600)} hour${Math.round(s / 3600) === 1 ? '' : 's'}`;
  return `${h} ago`.replace(/^About/, 'About');
}


