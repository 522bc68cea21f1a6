/** One thing a person holds in an app: an entitlement or a license tier. */
export interface Assignment {
  app: string;
  /** The person's id, or the account itself when no person has that account. */
  user: string;
  /** The account name in the app. */
  account: string;
  entitlement?: string;
  license?: string;
}

/** What a connector reads back: an account holding an entitlement or tier of the app's managed scope. */
/**
 * An account holding a managed entitlement or tier that iden leaves alone (a
 * group role, a superuser, the connecting role): never changed, never drift,
 * but shown wherever access is shown, since whoever uses it has that access.
 */
export interface Unmanaged {
  account: string;
  entitlement?: string;
  license?: string;
  /** Why iden leaves it alone. */
  why: string;
}

export interface Held {
  account: string;
  entitlement?: string;
  license?: string;
  /** Asked for but not yet in effect (a GitHub invitation not yet accepted): present, not missing. */
  pending?: boolean;
  /** Held, but the account cannot use it (a PostgreSQL role that cannot log in): present, but not access. */
  disabled?: boolean;
  /**
   * Held through something iden does not manage (an Okta group rule, a
   * dynamic group): it satisfies a grant, but iden never removes it and it
   * is not drift. Says what feeds it.
   */
  external?: string;
  /**
   * Held in part (a permission set in some of the AWS accounts it names):
   * what is missing. A grant completes it; with no grant it is drift, and
   * removing it takes away the part held.
   */
  incomplete?: string;
  /** Only when importing: the account is not iden's (why), so iden will not change it. */
  unowned?: string;
  /** Only when importing, where the app knows it: the account's person, for _people.yaml. */
  profile?: HeldProfile;
}

/** What an app knows of the person behind an account: for `iden import` to fill _people.yaml. */
export interface HeldProfile {
  name?: string;
  email?: string;
  /** Attributes such as department and title, as _people.yaml's `attributes:` holds them. */
  attributes?: Record<string, string | string[]>;
  /** The manager's account in the same app: the import makes it a person id (`manager:`). */
  managerAccount?: string;
}

export type ChangeReason =
  | 'new-grant'
  | 'start-reached'
  | 'expired'
  | 'removed'
  | 'changed'
  | 'drift'
  | 'retired'
  | 'login-disabled'
  | 'incomplete';

export interface Change extends Assignment {
  action: 'grant' | 'revoke';
  reason: ChangeReason;
  /** For start-reached and expired: the instant (ISO 8601) the grant's window opened or closed. */
  since?: string;
}

export type Outcome = 'unchanged' | 'granted' | 'revoked' | 'failed';

/** What an assignment gives, as one string: `e:<entitlement>` or `l:<tier>`. */
export function target(a: { entitlement?: string | undefined; license?: string | undefined }): string {
  return a.entitlement !== undefined ? `e:${a.entitlement}` : `l:${a.license}`;
}
