// The scheduler's choice of node for the planner: among a service's candidate nodes, the one with
// the fewest tasks of that service, then the fewest tasks in all, then the first node ID in
// localeCompare order. Nodes are numbered once (slots) and the current service's candidates kept
// in a min-heap, so a placement costs O(log nodes) instead of a sort of all nodes per task.
import type { PlanNode } from './planner.js';

export class Spread {
  private readonly slotById = new Map<string, number>();
  private readonly ids: string[] = [];
  /** slot of each eligible node object (IDs repeated in the input share a slot) */
  private readonly slotOf: Int32Array;
  /** tasks counted per node, all services */
  private readonly load: Int32Array;
  /** tasks counted per node, the service being placed */
  private readonly own: Int32Array;
  private readonly heap: Int32Array;
  private size = 0;
  /** position of each node ID in localeCompare order (ties: input order), made on first use */
  private rank?: Int32Array;
  private current?: number[];
  private currentCandidates?: Int32Array;

  constructor(private readonly eligible: readonly PlanNode[]) {
    this.slotOf = new Int32Array(eligible.length);
    eligible.forEach((n, i) => {
      let s = this.slotById.get(n.ID);
      if (s === undefined) { s = this.ids.length; this.slotById.set(n.ID, s); this.ids.push(n.ID); }
      this.slotOf[i] = s;
    });
    this.load = new Int32Array(this.ids.length);
    this.own = new Int32Array(this.ids.length);
    this.heap = new Int32Array(this.ids.length);
  }

  /** Counts a task on node `nodeId`; returns its slot, or -1 for a node that is not eligible (not counted). */
  count(nodeId: string): number {
    const s = this.slotById.get(nodeId);
    if (s === undefined) return -1;
    this.load[s]++;
    return s;
  }

  /** Slots of the nodes `keep` accepts (a node whose ID repeats is in if one of its objects is). */
  select(keep: (n: PlanNode) => boolean): Int32Array {
    const hit = new Uint8Array(this.ids.length);
    this.eligible.forEach((n, i) => { if (!hit[this.slotOf[i]] && keep(n)) hit[this.slotOf[i]] = 1; });
    const out: number[] = [];
    hit.forEach((h, s) => { if (h) out.push(s); });
    return Int32Array.from(out);
  }

  /**
   * The node for the next task of a service, chosen among `candidates` (slots from select());
   * `own` lists the slots of that service's counted tasks (from count()). The task is counted
   * there and its slot appended to `own`. Undefined when there is no candidate.
   */
  place(own: number[], candidates: Int32Array): string | undefined {
    if (!candidates.length) return undefined;
    if (own !== this.current || candidates !== this.currentCandidates) this.start(own, candidates);
    const s = this.heap[0];
    this.own[s]++;
    this.load[s]++;
    own.push(s);
    this.siftDown(0);
    return this.ids[s];
  }

  /**
   * The slow path, for services with per-node filters (max replicas, reservations) or placement
   * preferences: `choose` sees every candidate with its counts and returns the index of the one
   * to use (or -1: none fits). The task is counted there as in place().
   */
  placeBy(own: number[], candidates: Int32Array, choose: (c: { id: string; own: number; load: number }[]) => number): string | undefined {
    const mineOn = new Map<number, number>();
    for (const s of own) mineOn.set(s, (mineOn.get(s) ?? 0) + 1);
    const list = Array.from(candidates, (s) => ({ id: this.ids[s], own: mineOn.get(s) ?? 0, load: this.load[s] }));
    const i = choose(list);
    if (i < 0) return undefined;
    const s = candidates[i];
    this.load[s]++;
    own.push(s);
    // loads changed outside the heap: the next place() builds it again
    this.current = undefined;
    return this.ids[s];
  }

  private start(own: number[], candidates: Int32Array): void {
    if (!this.rank) {
      const order = this.ids.map((_, s) => s).sort((a, b) => this.ids[a].localeCompare(this.ids[b]) || a - b);
      this.rank = new Int32Array(this.ids.length);
      order.forEach((s, r) => { this.rank![s] = r; });
    }
    this.own.fill(0);
    for (const s of own) this.own[s]++;
    this.heap.set(candidates);
    this.size = candidates.length;
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
    this.current = own;
    this.currentCandidates = candidates;
  }

  private less(a: number, b: number): boolean {
    const o = this.own, l = this.load;
    if (o[a] !== o[b]) return o[a] < o[b];
    if (l[a] !== l[b]) return l[a] < l[b];
    return this.rank![a] < this.rank![b];
  }

  private siftDown(i: number): void {
    const h = this.heap, n = this.size, x = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1], h[c])) c++;
      if (!this.less(h[c], x)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = x;
  }
}
