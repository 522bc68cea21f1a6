import type { Step } from '../connectors/types.js';

/**
 * Steps that carry grants and removals together, in an order where a
 * person's grant runs before their removal in another step (so a failed
 * grant is known before the removal it must hold back), and otherwise as
 * the connector gave them. Where grants and removals cross (one step grants
 * what another removes, and the other way round), the first remaining step
 * goes next. Pure.
 */
export function grantsFirst(steps: readonly Step[]): Step[] {
  const granting = new Map<string, Set<number>>();
  steps.forEach((step, i) => {
    for (const c of step.changes)
      if (c.action === 'grant') granting.set(c.user, (granting.get(c.user) ?? new Set()).add(i));
  });
  const after = steps.map((step, j) => {
    const before = new Set<number>();
    for (const c of step.changes)
      if (c.action === 'revoke') for (const i of granting.get(c.user) ?? []) if (i !== j) before.add(i);
    return before;
  });
  const done = new Set<number>();
  const order: Step[] = [];
  while (order.length < steps.length) {
    const open = steps.map((_, i) => i).filter((i) => !done.has(i));
    const next = open.find((j) => [...after[j]!].every((i) => done.has(i))) ?? open[0]!;
    done.add(next);
    order.push(steps[next]!);
  }
  return order;
}
