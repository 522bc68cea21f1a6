import type { ConnectorMeta } from '../types.js';
import { typed } from '../types.js';
import { missingCredentials } from './credentials.js';
import schema from './schema.json' with { type: 'json' };
import type { AwsIdentityCenterConnector } from './settings.generated.js';

/** AWS IAM Identity Center: Identity Store group membership and permission-set assignments in AWS accounts. */
const meta: ConnectorMeta = {
  type: 'aws-identity-center',
  accountDefault: 'email',
  // The Identity Store compares user names without regard to case.
  caseInsensitiveAccounts: true,
  schema,
  missingCredentials(app, env) {
    return missingCredentials(typed<AwsIdentityCenterConnector, unknown, unknown>(app).connector, env);
  },
  load: () => import('./index.js'),
};

export default meta;
