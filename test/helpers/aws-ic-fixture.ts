import { ManualClock } from '../../src/model/clock.js';
import { CenterServer } from './aws-ic-server.js';
import { seed } from './aws-ic-state.js';
import { NO_VERIFY, writeTree } from './repo.js';

/** Two production accounts the tests' permission sets are assigned in. */
export const PROD = ['111122223333', '444455556666'];

/** The run's clock: a wait moves it on at once, so polling and pacing cost no real time; it counts what was waited. */
export class StepClock extends ManualClock {
  waited = 0;
  override sleep(ms: number): Promise<void> {
    const done = super.sleep(ms);
    this.waited += Math.max(0, ms);
    this.advance(Math.max(0, ms));
    return done;
  }
}

/** A started Identity Center with four users, the Platform Engineers group (carol in it) and three permission sets. */
export async function startCenter() {
  const server = new CenterServer();
  await server.start();
  const s = seed(server);
  const ids = {
    alice: s.user('alice@example.com'),
    bob: s.user('bob.okafor'),
    carol: s.user('carol@example.com'),
    mallory: s.user('mallory@example.com'),
  };
  const platform = s.group('Platform Engineers', [ids.carol]);
  const admin = s.permissionSet('AdministratorAccess');
  const readOnly = s.permissionSet('ReadOnlyAccess');
  s.permissionSet('Billing');
  return { server, s, ids, platform, admin, readOnly };
}

/** An access repository for it: alice (group and admin, ending), bob (read-only by ARN, his own user name), carol (group); zed has no user. */
export function accessRepo(readOnlyArn: string, extra: Record<string, string | null> = {}, app = '') {
  return writeTree({
    'grants/_settings.yaml': NO_VERIFY,
    'grants/_people.yaml': `people:
  - { id: alice, name: Alice Martin, email: alice@example.com }
  - { id: bob, name: Bob Okafor, email: bob@example.com, accounts: { aws: bob.okafor } }
  - { id: carol, name: Carol Nguyen, email: carol@example.com }
  - { id: zed, name: Zed Ghost, email: zed@example.com }
`,
    'grants/aws/_app.yaml': `name: AWS
connector: { type: aws-identity-center }
entitlements:
  - { id: platform, kind: group, group: Platform Engineers }
  - { id: prod-admin, kind: permission-set, permissionSet: AdministratorAccess, accounts: ['${PROD[0]}', '${PROD[1]}'] }
  - { id: readonly, kind: permission-set, permissionSet: '${readOnlyArn}', accounts: ['${PROD[0]}'] }
${app}`,
    'grants/aws/alice.yaml': 'user: alice\napp: aws\npermissions: [platform, prod-admin]\nend: 2027-01-01\n',
    'grants/aws/bob.yaml': 'user: bob\napp: aws\npermissions: [readonly]\n',
    'grants/aws/carol.yaml': 'user: carol\napp: aws\npermissions: [platform]\n',
    ...extra,
  });
}
