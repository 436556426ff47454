// Minimal Reflect metadata (getMetadata/getOwnMetadata/defineMetadata/hasMetadata/hasOwnMetadata)
// for tsyringe under @peculiar/x509; see x509.ts for why.

type Store = Map<unknown, unknown>;
const stores = new WeakMap<object, Map<PropertyKey | undefined, Store>>();

function own(target: object, prop: PropertyKey | undefined, create: boolean): Store | undefined {
  let byProp = stores.get(target);
  if (!byProp) { if (!create) return undefined; byProp = new Map(); stores.set(target, byProp); }
  let s = byProp.get(prop);
  if (!s && create) { s = new Map(); byProp.set(prop, s); }
  return s;
}

function lookup(key: unknown, target: object, prop?: PropertyKey): { found: boolean; value: unknown } {
  for (let t: object | null = target; t; t = Object.getPrototypeOf(t)) {
    const s = own(t, prop, false);
    if (s?.has(key)) return { found: true, value: s.get(key) };
  }
  return { found: false, value: undefined };
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  Object.assign(R, {
    defineMetadata: (key: unknown, value: unknown, target: object, prop?: PropertyKey) => { own(target, prop, true)!.set(key, value); },
    getOwnMetadata: (key: unknown, target: object, prop?: PropertyKey) => own(target, prop, false)?.get(key),
    hasOwnMetadata: (key: unknown, target: object, prop?: PropertyKey) => own(target, prop, false)?.has(key) ?? false,
    getMetadata: (key: unknown, target: object, prop?: PropertyKey) => lookup(key, target, prop).value,
    hasMetadata: (key: unknown, target: object, prop?: PropertyKey) => lookup(key, target, prop).found,
    metadata: (key: unknown, value: unknown) => (target: object, prop?: PropertyKey) => { own(target, prop, true)!.set(key, value); },
  });
}

export {};
