import { didYouMean, error, type Finding } from '../../model/diagnostics.js';
import { knownConnectorTypes } from '../../schema/check.js';
import type { RuleContext } from '../context.js';

/** Entitlement and tier ids are unique within an app, seats are not negative, and the connector exists. */
export function appDefinitions(ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  const types = knownConnectorTypes();
  for (const app of ctx.apps.values()) {
    const type = app.connectorType;
    if (type !== undefined && !types.includes(type)) {
      findings.push(
        error(
          app.file,
          'unknown-connector',
          `connector type "${type}" is not known${didYouMean(type, types) || ` (known: ${types.join(', ')})`}`,
          ['connector', 'type'],
        ),
      );
    }
    for (const [list, items] of [
      ['entitlements', app.entitlements],
      ['licenses', app.licenses],
    ] as const) {
      const seen = new Set<string>();
      for (const { id, index } of items) {
        if (!seen.has(id)) seen.add(id);
        else
          findings.push(
            error(app.file, 'duplicate-id', `${list} id "${id}" is declared twice in this app`, [
              list,
              index,
              'id',
            ]),
          );
      }
    }
    for (const { seats, index } of app.licenses) {
      if (seats !== undefined && seats < 0) {
        findings.push(
          error(app.file, 'negative-seats', `seats is ${seats}; it must be 0 or more`, [
            'licenses',
            index,
            'seats',
          ]),
        );
      }
    }
  }
  return findings;
}
