import type { HeldProfile } from '../../model/access.js';
import { crawl, literal, pages, query, type Read } from './crawl.js';
import { BATCH_LIMIT, type Graph } from './graph.js';

export interface EntraUser {
  id: string;
  userPrincipalName?: string | null;
  mail?: string | null;
  /** Read only by iden import, for _people.yaml. */
  displayName?: string | null;
  department?: string | null;
  jobTitle?: string | null;
  /** Employee, Contractor, Consultant, Vendor… as the tenant writes it. */
  employeeType?: string | null;
}

/** A user's manager as `$expand=manager` gives it: a user, or an organizational contact (not a person here). */
interface Manager {
  '@odata.type'?: string;
  id: string;
  userPrincipalName?: string | null;
  mail?: string | null;
}

/** What iden reads of a user: enough to name them. */
export const USER_FIELDS = 'id,userPrincipalName,mail';
/** What iden import also reads: the person's name, department, job title and employee type. */
export const PROFILE_FIELDS = `${USER_FIELDS},displayName,department,jobTitle,employeeType`;
/** The manager of users listed, in the same list: one relation, its account only. */
const MANAGER = `manager($select=${USER_FIELDS})`;

/** Values one `in` filter may hold: Graph allows 15 by default. */
const IN_LIMIT = 15;

const lower = (text: string | null | undefined) => text?.toLowerCase();

/**
 * The users this session has met, by object id and by account (UPN and
 * mail, without regard to case), and the accounts looked up and not found.
 * Users are only ever read: iden never creates or deletes one.
 */
export class Directory {
  private readonly byId = new Map<string, EntraUser>();
  private readonly byAccount = new Map<string, EntraUser>();
  private readonly absent = new Map<string, string>();
  /** When importing: each user's manager once read (null: none, or not a user). */
  private readonly managers = new Map<string, EntraUser | null>();

  /** The user properties read (more when importing). */
  readonly fields: string;

  /** `accounts`: every person's account in this app, as the repository names them (lowercase). */
  constructor(
    private readonly accounts: ReadonlySet<string>,
    readonly importing = false,
  ) {
    this.fields = importing ? PROFILE_FIELDS : USER_FIELDS;
  }

  /** What the directory knows of a user's person, when importing. */
  profileOf(user: EntraUser | undefined): HeldProfile | undefined {
    if (!this.importing || !user) return undefined;
    const attributes: Record<string, string> = {};
    if (user.department) attributes.department = user.department;
    if (user.jobTitle) attributes.title = user.jobTitle;
    if (user.employeeType) attributes.employment = user.employeeType;
    const manager = this.managers.get(user.id);
    const profile: HeldProfile = {
      ...(user.displayName ? { name: user.displayName } : {}),
      ...(user.mail ? { email: user.mail } : {}),
      ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
      ...(manager ? { managerAccount: this.accountOf(manager) } : {}),
    };
    return Object.keys(profile).length > 0 ? profile : undefined;
  }

  remember(user: EntraUser): void {
    this.byId.set(user.id, user);
    for (const name of [user.userPrincipalName, user.mail]) {
      const key = lower(name);
      if (key && !this.byAccount.has(key)) this.byAccount.set(key, user);
    }
  }

  byObjectId(id: string): EntraUser | undefined {
    return this.byId.get(id);
  }

  user(account: string): EntraUser | undefined {
    return this.byAccount.get(account.toLowerCase());
  }

  /** Why the account has no user, once a lookup found none. */
  absence(account: string): string | undefined {
    return this.absent.get(account.toLowerCase());
  }

  /**
   * The account a user holds access under: their UPN, or their mail where
   * that is a person's account and the UPN is not (the default account is
   * the email, which need not be the UPN).
   */
  accountOf(user: EntraUser): string {
    const upn = user.userPrincipalName ?? user.mail ?? user.id;
    if (this.accounts.has(upn.toLowerCase())) return upn;
    if (user.mail && this.accounts.has(user.mail.toLowerCase())) return user.mail;
    return upn;
  }

  /** Reads the users of these object ids that are not known yet, 15 to a filter, 20 filters to a batch. */
  async resolveIds(graph: Graph, ids: readonly string[]): Promise<void> {
    const unknown = [...new Set(ids)].filter((id) => !this.byId.has(id));
    await crawl(graph, this.lookups(graph, 'id', unknown));
  }

  /**
   * Reads the manager of every user met so far, for iden import: the users
   * listed by id, 15 to a filter, with `$expand=manager` (Graph expands a
   * user's manager on a list; pages of at most 100 then), 20 filters to a
   * batch: a call per 300 users, not one per user.
   */
  async resolveManagers(graph: Graph): Promise<void> {
    const ids = [...this.byId.keys()].filter((id) => !this.managers.has(id));
    await crawl(
      graph,
      this.lookups(graph, 'id', ids, undefined, {
        $select: 'id',
        $expand: MANAGER,
        take: (user) => {
          const m = (user as EntraUser & { manager?: Manager | null }).manager;
          const isUser = m?.id && (m['@odata.type'] ?? '#microsoft.graph.user') === '#microsoft.graph.user';
          this.managers.set(user.id, isUser ? { id: m.id, ...pick(m) } : null);
        },
      }),
    );
  }

  /**
   * Finds the users of these accounts that are not known yet: by
   * userPrincipalName, and by mail for the rest (the default account is the
   * email, which need not be the UPN). When both fit one batch they go
   * together; otherwise mail is asked only for what the UPNs did not find.
   * An account neither finds is remembered as absent, with why.
   */
  async resolveAccounts(graph: Graph, accounts: readonly string[]): Promise<void> {
    const pending = () =>
      [...new Set(accounts.map((a) => a.toLowerCase()))].filter(
        (a) => !this.byAccount.has(a) && !this.absent.has(a),
      );
    for (const a of pending().filter((a) => !a.includes('@')))
      this.absent.set(a, 'it is not a userPrincipalName or an email address');
    const byMail = new Map<string, EntraUser[]>();
    const mails = (values: readonly string[]) =>
      this.lookups(graph, 'mail', values, (user) => {
        const key = lower(user.mail)!;
        byMail.set(key, [...(byMail.get(key) ?? []).filter((u) => u.id !== user.id), user]);
      });
    const first = pending();
    const together = 2 * Math.ceil(first.length / IN_LIMIT) <= BATCH_LIMIT;
    await crawl(graph, [
      ...this.lookups(graph, 'userPrincipalName', first),
      ...(together ? mails(first) : []),
    ]);
    if (!together) await crawl(graph, mails(pending()));
    for (const [mail, users] of byMail)
      if (users.length > 1 && !users.some((u) => lower(u.userPrincipalName) === mail)) {
        this.byAccount.delete(mail);
        this.absent.set(mail, `${users.length} users have this mail: name the user by userPrincipalName`);
      }
    for (const a of pending()) this.absent.set(a, 'no user has it as userPrincipalName or mail');
  }

  private lookups(
    graph: Graph,
    property: 'id' | 'userPrincipalName' | 'mail',
    values: readonly string[],
    seen?: (user: EntraUser) => void,
    /** Instead of remembering users: other fields, a relation expanded, and what to do with each. */
    other?: { $select: string; $expand: string; take: (user: EntraUser) => void },
  ): Read[] {
    const reads: Read[] = [];
    for (let i = 0; i < values.length; i += IN_LIMIT) {
      const some = values.slice(i, i + IN_LIMIT);
      const filter = `${property} in (${some.map(literal).join(',')})`;
      const what = `${other ? 'reading the managers of' : 'looking up'} ${some.length} user${some.length === 1 ? '' : 's'} by ${property}`;
      reads.push(
        pages<EntraUser>(
          graph,
          `/users${query({ $filter: filter, $select: other?.$select ?? this.fields, $expand: other?.$expand })}`,
          what,
          (users) => {
            for (const user of users) {
              if (other) other.take(user);
              else this.remember(user);
              seen?.(user);
            }
          },
          { permission: other ? 'User.Read.All' : 'User.ReadBasic.All' },
        ),
      );
    }
    return reads;
  }
}

/** A manager's names, as a user of the directory. */
function pick(m: Manager): Omit<EntraUser, 'id'> {
  return {
    ...(m.userPrincipalName ? { userPrincipalName: m.userPrincipalName } : {}),
    ...(m.mail ? { mail: m.mail } : {}),
  };
}
