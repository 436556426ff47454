import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlanNode } from './planner.js';
import { Spread } from './planner-spread.js';

const node = (id: string, labels: Record<string, string> = {}): PlanNode =>
  ({ ID: id, Spec: { Availability: 'active', Role: 'worker', Labels: labels }, Status: { State: 'ready' } });
const all = () => true;

test('one service: round robin in node ID order, 4/3/3 for 10 tasks on 3 nodes', () => {
  const s = new Spread([node('c'), node('a'), node('b')]);
  const mine: number[] = [];
  const picks = Array.from({ length: 10 }, () => s.place(mine, s.select(all)));
  assert.deepEqual(picks, ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c', 'a']);
  assert.equal(mine.length, 10);
});

test('fewest tasks of the service first, then fewest in all, then node ID (localeCompare)', () => {
  const s = new Spread([node('b'), node('a'), node('C')]);
  // other services: 5 tasks on a, 1 on b; this service already has one on C
  for (let i = 0; i < 5; i++) s.count('a');
  s.count('b');
  const mine = [s.count('C')];
  const nodes = s.select(all);
  // own load: a 0, b 0, C 1 -> total load: a 5, b 1 -> b
  assert.equal(s.place(mine, nodes), 'b');
  // own: a 0, b 1, C 1 -> a (its 5 other tasks do not matter: spread per service comes first)
  assert.equal(s.place(mine, nodes), 'a');
  // own 1/1/1; total a 6, b 2, C 1 -> C
  assert.equal(s.place(mine, nodes), 'C');
  // a new service: own 0 everywhere; total a 6, b 2, C 2 -> b before C ('b' < 'C' in localeCompare, unlike code units)
  assert.equal(s.place([], nodes), 'b');
});

test('candidates limit the choice; none gives undefined; nodes that are not eligible are not counted', () => {
  const s = new Spread([node('a', { zone: 'x' }), node('b'), node('c', { zone: 'x' })]);
  const zoneX = s.select((n) => n.Spec.Labels.zone === 'x');
  const mine: number[] = [];
  assert.deepEqual([1, 2, 3, 4].map(() => s.place(mine, zoneX)), ['a', 'c', 'a', 'c']);
  assert.equal(s.place([], s.select(() => false)), undefined);
  assert.equal(s.count('gone'), -1);
});

test('a repeated node ID is one node, in if any of its objects passes', () => {
  const s = new Spread([node('a'), node('b'), node('a', { zone: 'x' })]);
  const zoneX = s.select((n) => n.Spec.Labels.zone === 'x');
  assert.equal(zoneX.length, 1);
  assert.equal(s.place([], zoneX), 'a');
  assert.equal(s.select(all).length, 2);
});

test('matches a sort of all candidates per task, across services and constraint sets', () => {
  let seed = 7;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const ids = Array.from({ length: 60 }, (_, i) => `n${Math.floor(rand() * 1000)}-${i}`);
  const nodes = ids.map((id, i) => node(id, i % 3 ? {} : { zone: 'x' }));
  const s = new Spread(nodes);
  const load = new Map<string, number>();
  const own = new Map<string, number>();
  for (let i = 0; i < 200; i++) { const id = ids[Math.floor(rand() * ids.length)]; s.count(id); load.set(id, (load.get(id) ?? 0) + 1); }
  for (let svc = 0; svc < 8; svc++) {
    const constrained = svc % 2 === 1;
    const cands = s.select((n) => !constrained || n.Spec.Labels.zone === 'x');
    const pool = nodes.filter((n) => !constrained || n.Spec.Labels.zone === 'x');
    const mine: number[] = [];
    own.clear();
    for (let i = 0; i < 150; i++) {
      const want = [...pool].sort((a, b) => (own.get(a.ID) ?? 0) - (own.get(b.ID) ?? 0) || (load.get(a.ID) ?? 0) - (load.get(b.ID) ?? 0) || a.ID.localeCompare(b.ID))[0].ID;
      assert.equal(s.place(mine, cands), want, `service ${svc}, task ${i}`);
      own.set(want, (own.get(want) ?? 0) + 1);
      load.set(want, (load.get(want) ?? 0) + 1);
    }
  }
});
