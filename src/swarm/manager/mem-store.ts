import type { SwarmStore } from '../backend.js';

/** For unit tests: the store's contract as the manager code uses it (keys → JSON values, versions for CAS), in memory. */
export function memStore(): SwarmStore {
  const data = new Map<string, { value: string; version: number }>();
  let rev = 0;
  const put = (k: string, v: unknown) => { data.set(k, { value: JSON.stringify(v), version: ++rev }); };
  const list = (p: string) => [...data.entries()].filter(([k]) => k.startsWith(p)).sort(([a], [b]) => (a < b ? -1 : 1));
  const store = {
    get: async (k: string) => (data.has(k) ? JSON.parse(data.get(k)!.value) : undefined),
    put: async (k: string, v: unknown) => put(k, v),
    update: async (k: string, fn: (cur: any) => any, version?: number) => {
      if (!data.has(k)) throw new Error(`not found: ${k}`);
      if (version !== undefined && data.get(k)!.version !== version) throw new Error(`version conflict: ${k}`);
      put(k, fn(JSON.parse(data.get(k)!.value)));
    },
    delete: async (k: string) => { data.delete(k); },
    list: async (p: string) => list(p).map(([, v]) => JSON.parse(v.value)),
    listWithVersion: async (p: string) => list(p).map(([key, v]) => ({ key, value: JSON.parse(v.value), version: v.version })),
  };
  return store as unknown as SwarmStore;
}
