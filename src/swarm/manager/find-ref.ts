import { NotFound } from '../../api/errors.js';

/**
 * Docker's lookup of a swarm object by reference: the full ID, then the name, then an unambiguous
 * ID prefix; `what` names it in the 404 ("node x not found").
 */
export function findByRef<T extends { ID: string }>(all: T[], ref: string, what: string, nameOf?: (x: T) => string | undefined): T {
  const hit = all.find((x) => x.ID === ref) ?? (nameOf ? all.find((x) => nameOf(x) === ref) : undefined) ?? (() => {
    const p = all.filter((x) => x.ID.startsWith(ref));
    return p.length === 1 ? p[0] : undefined;
  })();
  if (!hit) throw new NotFound(`${what} ${ref} not found`);
  return hit;
}
