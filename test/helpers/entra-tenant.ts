import { randomUUID } from 'node:crypto';

export interface User {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  usageLocation: string | null;
  /** Products assigned directly (skuIds). */
  licenses: Set<string>;
  /** signInActivity.lastSuccessfulSignInDateTime; absent: none recorded. */
  lastSuccessfulSignIn?: string;
  /** Graph's displayName (default the UPN's local part), department and jobTitle. */
  displayName?: string;
  department?: string;
  jobTitle?: string;
  employeeType?: string;
  /** The object id of the user's manager (Graph's manager relation). */
  manager?: string;
}

export interface Group {
  id: string;
  displayName: string;
  groupTypes: string[];
  membershipRule: string | null;
  mailEnabled: boolean;
  securityEnabled: boolean;
  onPremisesSyncEnabled: boolean | null;
  members: Set<string>;
  /** Group-based licensing: its members hold these products through it. */
  licenses: Set<string>;
}

export interface AppRole {
  id: string;
  value: string | null;
  displayName: string;
  description: string;
  isEnabled: boolean;
  allowedMemberTypes: string[];
  origin: string;
}

export interface Assignment {
  id: string;
  appRoleId: string;
  principalId: string;
  principalType: 'User' | 'Group' | 'ServicePrincipal';
  principalDisplayName: string;
  resourceId: string;
  resourceDisplayName: string;
  createdDateTime: string;
}

export interface App {
  id: string;
  appId: string;
  displayName: string;
  appRoles: AppRole[];
  assignments: Map<string, Assignment>;
}

export interface Sku {
  skuId: string;
  skuPartNumber: string;
  enabled: number;
}

/** An Entra tenant's directory, as the test server keeps it: users, groups, enterprise apps, products. */
export class Tenant {
  readonly users = new Map<string, User>();
  readonly groups = new Map<string, Group>();
  readonly apps = new Map<string, App>();
  readonly skus = new Map<string, Sku>();

  addUser(
    upn: string,
    options: {
      mail?: string | null;
      usageLocation?: string | null;
      lastSuccessfulSignIn?: string;
      displayName?: string;
      department?: string;
      jobTitle?: string;
      employeeType?: string;
      manager?: string;
    } = {},
  ): User {
    const user: User = {
      id: randomUUID(),
      userPrincipalName: upn,
      mail: options.mail === undefined ? upn : options.mail,
      usageLocation: options.usageLocation === undefined ? 'DE' : options.usageLocation,
      licenses: new Set(),
      ...(options.lastSuccessfulSignIn ? { lastSuccessfulSignIn: options.lastSuccessfulSignIn } : {}),
      ...(options.displayName ? { displayName: options.displayName } : {}),
      ...(options.department ? { department: options.department } : {}),
      ...(options.jobTitle ? { jobTitle: options.jobTitle } : {}),
      ...(options.employeeType ? { employeeType: options.employeeType } : {}),
      ...(options.manager ? { manager: options.manager } : {}),
    };
    this.users.set(user.id, user);
    return user;
  }

  user(upn: string): User {
    const user = [...this.users.values()].find(
      (u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase(),
    );
    if (!user) throw new Error(`no user ${upn}`);
    return user;
  }

  addGroup(displayName: string, options: Partial<Omit<Group, 'id' | 'displayName' | 'members'>> = {}): Group {
    const group: Group = {
      id: randomUUID(),
      displayName,
      groupTypes: [],
      membershipRule: null,
      mailEnabled: false,
      securityEnabled: true,
      onPremisesSyncEnabled: null,
      members: new Set(),
      licenses: new Set(),
      ...options,
    };
    this.groups.set(group.id, group);
    return group;
  }

  addApp(displayName: string, roles: string[]): App {
    const app: App = {
      id: randomUUID(),
      appId: randomUUID(),
      displayName,
      appRoles: roles.map((value) => ({
        id: randomUUID(),
        value,
        displayName: value,
        description: value,
        isEnabled: true,
        allowedMemberTypes: ['User'],
        origin: 'Application',
      })),
      assignments: new Map(),
    };
    this.apps.set(app.id, app);
    return app;
  }

  addSku(skuPartNumber: string, enabled: number): Sku {
    const sku = { skuId: randomUUID(), skuPartNumber, enabled };
    this.skus.set(sku.skuId, sku);
    return sku;
  }

  /** The app role a user holds, by its value. */
  assign(app: App, user: User, value: string): Assignment {
    const role = app.appRoles.find((r) => r.value === value)!;
    return this.createAssignment(app, user.id, 'User', user.userPrincipalName, role.id);
  }

  createAssignment(
    app: App,
    principalId: string,
    principalType: Assignment['principalType'],
    principalDisplayName: string,
    appRoleId: string,
  ): Assignment {
    const assignment: Assignment = {
      id: Buffer.from(randomUUID()).toString('base64url').slice(0, 43),
      appRoleId,
      principalId,
      principalType,
      principalDisplayName,
      resourceId: app.id,
      resourceDisplayName: app.displayName,
      createdDateTime: '2026-11-01T09:00:00Z',
    };
    app.assignments.set(assignment.id, assignment);
    return assignment;
  }

  /** Who holds an app role, by UPN. */
  holders(app: App, value: string): string[] {
    const role = app.appRoles.find((r) => r.value === value)!;
    return [...app.assignments.values()]
      .filter((a) => a.appRoleId === role.id && a.principalType === 'User')
      .map((a) => this.users.get(a.principalId)!.userPrincipalName)
      .sort();
  }

  members(group: Group): string[] {
    return [...group.members].map((id) => this.users.get(id)!.userPrincipalName).sort();
  }

  /** The products a user holds, each with the groups it comes through ([] when assigned directly only). */
  licenceStates(user: User): { skuId: string; assignedByGroup: string | null }[] {
    const states = [...user.licenses].map((skuId) => ({ skuId, assignedByGroup: null as string | null }));
    for (const group of this.groups.values())
      if (group.members.has(user.id))
        for (const skuId of group.licenses) states.push({ skuId, assignedByGroup: group.id });
    return states;
  }

  /** Holders of a product, directly or through a group: each user counts once. */
  consumed(skuId: string): number {
    return [...this.users.values()].filter((u) => this.licenceStates(u).some((s) => s.skuId === skuId))
      .length;
  }

  licensed(sku: Sku): string[] {
    return [...this.users.values()]
      .filter((u) => u.licenses.has(sku.skuId))
      .map((u) => u.userPrincipalName)
      .sort();
  }
}
