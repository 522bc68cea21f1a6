import type { Step } from '../connectors/types.js';

/**
 * Steps that carry grants and removals together, in an order where a
 * person's grant runs before their removal in another step (so a failed
 * grant is known before the removal it must hold back), and otherwise as
 * the connector gave them. Where grants and removals cross (one step grants
 * what another removes, and the other way round), the step that removes the
 * fewest people whose grants are still to run goes next. Pure.
 */
export function grantsFirst(steps: readonly Step[]): Step[] {
  const granting = new Map<string, Set<number>>();
  steps.forEach((step, i) => {
    for (const c of step.changes)
      if (c.action === 'grant') granting.set(c.user, (granting.get(c.user) ?? new Set()).add(i));
  });
  const done = new Set<number>();
  // The people a step would remove before their grant elsewhere has run.
  const early = (j: number) =>
    new Set(
      steps[j]!.changes.filter(
        (c) =>
          c.action === 'revoke' && [...(granting.get(c.user) ?? [])].some((i) => i !== j && !done.has(i)),
      ).map((c) => c.user),
    ).size;
  const order: Step[] = [];
  while (order.length < steps.length) {
    let next = -1;
    let least = Number.POSITIVE_INFINITY;
    for (let j = 0; j < steps.length; j++) {
      if (done.has(j)) continue;
      const n = early(j);
      if (n < least) [next, least] = [j, n];
    }
    done.add(next);
    order.push(steps[next]!);
  }
  return order;
}
