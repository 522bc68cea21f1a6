import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workflowFor } from '../../src/flow/init-workflows.js';
import { packageRoot } from '../../src/util/package-root.js';

/** A workflow's `${{ secrets.NAME }}` expression. */
const secret = (name: string) => `$${'{{'} secrets.${name} }}`;
const template = (name: string) => readFileSync(join(packageRoot(), '.github/workflows', name), 'utf8');

describe('the workflows iden init writes', () => {
  it("put this repository's apps' secrets where the example's were, and keep iden's own", () => {
    const apply = workflowFor(template('iden-apply.yml'), {
      branch: 'main',
      secrets: ['ANALYTICS_DATABASE_URL', 'OKTA_API_TOKEN'],
    });
    expect(apply).toContain(
      [
        "          # Each app's credentials, under the names its _app.yaml gives, to this step only.",
        `          ANALYTICS_DATABASE_URL: ${secret('ANALYTICS_DATABASE_URL')}`,
        `          OKTA_API_TOKEN: ${secret('OKTA_API_TOKEN')}`,
        '          # Signs the apply records, so no one without it can add or change one unseen (iden audit checks).',
        `          IDEN_RECORD_KEY: ${secret('IDEN_RECORD_KEY')}`,
      ].join('\n'),
    );
    expect(apply).not.toMatch(/ACME_GITHUB_TOKEN|SALESFORCE_SCIM_TOKEN/);
    const reconcile = workflowFor(template('iden-reconcile.yml'), { branch: 'main', secrets: [] });
    expect(reconcile).toContain(
      `          APP: $${'{{'} matrix.app }}\n          IDEN_RECORD_KEY: ${secret('IDEN_RECORD_KEY')}\n`,
    );
  });

  it('leave a template without secrets or branches as it is', () => {
    const review = template('iden-review.yml');
    expect(workflowFor(review, { branch: 'trunk', secrets: ['X_TOKEN'] })).toBe(review);
  });
});
