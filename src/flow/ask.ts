// What the flow asks when a flag does not say it: which app, who, which
// permissions, when, which tier, why. Each question is put through the
// Questions port; without one (no terminal, or --yes) a missing answer is a
// usage error naming the flag and the values it takes.
import { DateTime } from 'luxon';
import { OperatorError, UsageError } from '../errors.js';
import { parseDuration } from '../model/duration.js';
import type { AccessRepo, Person } from '../model/repo.js';
import { humanTime, type Instant, parseTime } from '../model/time.js';
import { appName } from '../report/flow.js';
import type { Cap } from '../rules/offer.js';
import type { TierChoice } from '../views/seats.js';
import { askCappedEnd } from './ask-end.js';
import type { CheckChoice, Choice, Questions } from './questions.js';
import { holders, personOrFail, type Workspace, writtenEnd } from './workspace.js';

export type AppValue = NonNullable<AccessRepo['apps'] extends Map<string, infer E> ? E : never>['value'] &
  object;

export const missing = (flag: string, allowed: string[]) =>
  new UsageError(
    `${flag} is required without a terminal${allowed.length > 0 ? ` (one of ${allowed.join(', ')})` : ''}`,
  );

export async function pickApp(
  ws: Workspace,
  ask: Questions | undefined,
  flag: string,
  person?: string,
  /** Why the person may hold nothing in an app under its rules (then it cannot be picked). */
  closed?: (app: string) => string | undefined,
): Promise<string> {
  if (!ask) throw missing(flag, [...ws.repo.apps.keys()]);
  const apps = [...ws.repo.apps.values()].sort((a, b) => a.id.localeCompare(b.id));
  if (apps.length === 0)
    throw new OperatorError('the repository has no apps: add grants/<app>/_app.yaml first');
  if (person !== undefined && apps.every((a) => holders(ws, a.id).has(person)))
    throw new OperatorError(
      `${person} has a grant for every app already: change one with iden change --app <app> --user ${person}`,
    );
  return ask.select({
    message: person ? `Which app should ${person} get access to?` : 'Which app?',
    pageSize: 12,
    choices: apps.map((a) => {
      const held = person !== undefined && holders(ws, a.id).has(person);
      const shut = !held && a.value ? closed?.(a.id) : undefined;
      return {
        value: a.id,
        name: `${a.value?.name ?? a.id} (${a.id})`,
        short: a.id,
        ...(a.value?.connector ? { description: `${a.value.connector.type} app` } : {}),
        ...(held
          ? { disabled: `already has access: iden change --app ${a.id} --user ${person}` }
          : !a.value
            ? { disabled: 'does not validate' }
            : shut
              ? { disabled: `(${shut})` }
              : {}),
      };
    }),
  });
}

export async function pickPerson(
  ws: Workspace,
  ask: Questions | undefined,
  app: string,
  people: Map<string, Person>,
  say: (text: string) => void,
  /** Why a person may not hold what is asked under the app's rules (eligible): shown, and not pickable. */
  closed?: (person: Person) => string | undefined,
): Promise<string> {
  if (!ask) throw missing('--user', []);
  const taken = holders(ws, app);
  const left = ws.people.filter((p) => taken.has(p.id)).length;
  if (left > 0)
    say(
      `${left} ${left === 1 ? 'person already has' : 'people already have'} access to ${app} and ${left === 1 ? 'is' : 'are'} not offered; iden change --app ${app} --user <id> edits their access.\n`,
    );
  const offered = ws.people.filter((p) => !taken.has(p.id));
  if (offered.length === 0)
    throw new OperatorError(
      `everyone in grants/_people.yaml has access to ${app} already: add the person first, or change someone's access with iden change`,
    );
  // Eligible people first; the others are shown with the rule that keeps them out, and cannot be picked.
  const why = new Map(offered.flatMap((p) => (closed?.(p) ? [[p.id, closed(p)!] as const] : [])));
  if (why.size === offered.length)
    throw new OperatorError(
      `no one without access to ${app} may hold it under its rules (${[...why.values()][0]}): change the rule, or add the person's attributes to grants/_people.yaml`,
    );
  if (why.size > 0)
    say(
      `${why.size} ${why.size === 1 ? 'person is' : 'people are'} not eligible for ${app} under its rules and cannot be picked.\n`,
    );
  const example = offered.flatMap((p) => Object.entries(p.attributes ?? {}))[0];
  if (example)
    say(
      `Search by attribute too: typing ${[example[1]].flat()[0]} finds people whose ${example[0]} is ${[example[1]].flat()[0]}.\n`,
    );
  const ordered = [...offered.filter((p) => !why.has(p.id)), ...offered.filter((p) => why.has(p.id))];
  const haystack = new Map(ordered.map((p) => [p.id, searchText(p)]));
  return ask.search({
    message: `Who should get access to ${appName(ws, app)}? (search by name, email or id)`,
    pageSize: 10,
    source: (term) => {
      const t = (term ?? '').trim().toLowerCase();
      return ordered
        .filter((p) => t === '' || haystack.get(p.id)!.includes(t))
        .slice(0, 50)
        .map((p) => {
          const attrs = attributeText(p);
          return {
            value: p.id,
            name: `${p.name} <${p.email}>${attrs ? `  ${attrs}` : ''}`,
            short: `${p.name} (${p.id})`,
            description: `id ${p.id}`,
            ...(why.has(p.id) ? { disabled: `(${why.get(p.id)})` } : {}),
          };
        });
    },
    validate: (id) => (!people.has(id) ? 'pick a person' : (why.get(id) ?? true)),
  });
}

/** A person's attributes as the choice shows them: `department: finance · manager: carol`. */
export function attributeText(p: Person): string {
  return Object.entries(p.attributes ?? {})
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
    .join(' · ');
}

/** What a search term is looked for in: name, email, id and every attribute (key and value). */
function searchText(p: Person): string {
  const attrs = Object.entries(p.attributes ?? {}).map(
    ([k, v]) =>
      `${k}: ${Array.isArray(v) ? v.join(', ') : v}\u0000${k}=${Array.isArray(v) ? v.join(',') : v}`,
  );
  return [p.name, p.email, p.id, ...attrs].join('\u0000').toLowerCase();
}

export function pickPermissions(
  ask: Questions,
  app: AppValue,
  checked: string[],
  required: boolean,
  /** Why the person may not hold an entitlement under its rule (then it cannot be picked). */
  blocked?: (id: string) => string | undefined,
): Promise<string[]> {
  const kinds = ['group', 'role', 'permission', 'app', 'app-role', 'permission-set'] as const;
  const groups: { title: string; choices: CheckChoice<string>[] }[] = [];
  for (const kind of kinds) {
    const of = app.entitlements.filter((e) => e.kind === kind);
    if (of.length === 0) continue;
    groups.push({
      title: `${kind}s`,
      choices: of.map((e) => ({
        value: e.id,
        name: e.description ? `${e.id}: ${e.description}` : e.id,
        short: e.id,
        checked: checked.includes(e.id),
        ...(blocked?.(e.id) ? { disabled: `(${blocked(e.id)})` } : {}),
      })),
    });
  }
  return ask.checkbox({
    message: 'Which groups, roles or permissions? (space picks, enter confirms)',
    groups,
    required,
    pageSize: 15,
  });
}

export async function pickSchedule(
  ask: Questions,
  ws: Workspace,
  /** The cap the rules put on a grant starting then (maxDuration): only ends within it are offered. */
  capAt?: (from: Instant) => Cap | undefined,
): Promise<{ start?: string; end?: string }> {
  const when = await ask.select({
    message: 'When?',
    choices: [
      { value: 'now', name: 'Right now', description: 'as soon as the pull request is merged and applied' },
      { value: 'custom', name: 'Custom', description: `a start date, and an optional end (${ws.zone})` },
    ],
  });
  if (when === 'now') {
    const cap = capAt?.(ws.now);
    const end = cap
      ? await askCappedEnd(ask, ws, ws.now, undefined, cap)
      : await askEnd(ask, ws, ws.now, undefined, undefined);
    return end ? { end } : {};
  }
  const start = await ask.input({
    message: `Start, ${ws.zone} (a date like ${DateTime.fromMillis(ws.now + 86_400_000, { zone: ws.zone }).toISODate()}, or a date-time with an offset)`,
    validate: (text) => {
      const parsed = parseTime(text.trim(), ws.zone);
      return parsed.ok ? true : parsed.message;
    },
  });
  const from = (parseTime(start.trim(), ws.zone) as { at: Instant }).at;
  const cap = capAt?.(from);
  const end = cap
    ? await askCappedEnd(ask, ws, from, start.trim(), cap)
    : await askEnd(ask, ws, from, start.trim(), undefined);
  return { start: start.trim(), ...(end ? { end } : {}) };
}

/** An optional end: a date, a date-time, or a duration from the start (90d); empty for none. */
export async function askEnd(
  ask: Questions,
  ws: Workspace,
  from: Instant,
  /** The start as the file says it; undefined: when applied. */
  start: string | undefined,
  current: string | undefined,
): Promise<string | undefined> {
  const text = await ask.input({
    message: `End, ${ws.zone} (a date, or a duration like 90d; empty: no end)`,
    ...(current !== undefined ? { default: current } : {}),
    validate: (value) => {
      const v = value.trim();
      if (v === '') return true;
      const at = endInstant(v, ws.zone, from);
      if (typeof at === 'string') return at;
      return at > Math.max(from, ws.now) ? true : 'the end must come after the start and after now';
    },
  });
  const v = text.trim();
  return v === '' ? undefined : writtenEnd(ws, v, start);
}

function endInstant(text: string, zone: string, from: Instant): Instant | string {
  const duration = parseDuration(text);
  if (duration !== undefined) return from + duration;
  const parsed = parseTime(text, zone);
  return parsed.ok ? parsed.at : parsed.message;
}

/** A tier, seeing the seats each has; the current one (a change) can always be kept. */
export async function pickTier(
  ask: Questions,
  ws: Workspace,
  choices: TierChoice[],
  current?: string,
  /** Why a tier is closed under its rule (not eligible, or shorter than the window): not pickable. */
  blocked?: (tier: string) => string | undefined,
): Promise<string> {
  const shut = new Map(
    choices.flatMap((c) => (blocked?.(c.tier) ? [[c.tier, blocked(c.tier)!] as const] : [])),
  );
  if (current === undefined && shut.size === choices.length)
    throw new OperatorError(
      `no license tier may be picked under the rules (${choices.map((c) => `${c.tier}: ${shut.get(c.tier)}`).join('; ')}): nothing was changed`,
    );
  if (current === undefined && choices.every((c) => c.full || shut.has(c.tier)))
    throw new OperatorError(
      `every license tier is full for that window (${choices.map((c) => `${c.tier}${c.nextFree !== undefined ? `: a seat frees up ${humanTime(c.nextFree, ws.zone)}` : ''}`).join('; ')}): start later, or end another grant first; nothing was changed`,
    );
  return ask.select({
    message: 'Which license tier?',
    ...(current !== undefined ? { default: current } : {}),
    choices: choices.map((c) => ({
      value: c.tier,
      name:
        c.tier === current
          ? `${c.tier}  ${seatText(c)} (current)`
          : `${c.tier}  ${c.full ? `${c.used} of ${c.seats} seats used` : seatText(c)}`,
      short: c.tier,
      ...(c.description ? { description: c.description } : {}),
      ...(c.full && c.tier !== current
        ? {
            disabled: `(full${c.nextFree !== undefined ? `: a seat frees up ${humanTime(c.nextFree, ws.zone)}` : ' for that window'})`,
          }
        : shut.has(c.tier) && c.tier !== current
          ? { disabled: `(${shut.get(c.tier)})` }
          : {}),
    })),
  });
}

function seatText(c: TierChoice): string {
  if (c.seats === undefined) return `${c.used} used, no seat limit`;
  return `${c.used} of ${c.seats} seats used, ${Math.max(0, c.seats - c.used)} free`;
}

export async function askReason(ask: Questions, current: string | undefined): Promise<string | undefined> {
  const text = await ask.input({
    message: 'Reason (a ticket or a sentence, for the pull request and the audit trail)',
    ...(current !== undefined ? { default: current } : {}),
  });
  return text.trim() || undefined;
}

/**
 * The grant to change or revoke when a flag does not name it: from the app,
 * one of the people who hold it; from the person, one of the apps they hold;
 * with neither, the app first. Only grants that exist are offered.
 */
export async function pickHeld(
  ws: Workspace,
  ask: Questions | undefined,
  given: { app?: string | undefined; user?: string | undefined },
): Promise<{ app: string; user: string }> {
  const person = given.user !== undefined ? personOrFail(ws, given.user) : undefined;
  let app = given.app;
  if (app === undefined) {
    const held = [...ws.repo.apps.values()]
      .filter((a) => (person === undefined ? holders(ws, a.id).size > 0 : holders(ws, a.id).has(person)))
      .sort((a, b) => a.id.localeCompare(b.id));
    if (!ask)
      throw missing(
        '--app',
        held.map((a) => a.id),
      );
    if (held.length === 0)
      throw new OperatorError(
        person === undefined
          ? 'nobody holds a grant yet: give access with iden grant'
          : `${person} holds no grant`,
      );
    app = await ask.select({
      message: person ? `Which of ${person}'s access?` : 'Which app?',
      pageSize: 12,
      choices: held.map((a) => ({ value: a.id, name: `${a.value?.name ?? a.id} (${a.id})`, short: a.id })),
    });
  }
  if (person !== undefined) return { app, user: person };
  const taken = holders(ws, app);
  const offered = ws.people.filter((p) => taken.has(p.id));
  if (!ask) throw missing('--user', []);
  if (offered.length === 0) throw new OperatorError(`nobody holds a grant for ${app}`);
  const user = await ask.search({
    message: `Whose access to ${appName(ws, app)}? (search by name, email or id)`,
    pageSize: 10,
    source: (term) => heldBy(offered, term),
  });
  return { app, user };
}

/** The person to offboard when --user does not name them: anyone who holds a grant. */
export async function pickOffboarded(ws: Workspace, ask: Questions | undefined): Promise<string> {
  if (!ask) throw missing('--user', []);
  const holding = new Set([...ws.names.values()].flatMap((names) => [...names]));
  const offered = ws.people.filter((p) => holding.has(p.id));
  if (offered.length === 0) throw new OperatorError('nobody holds a grant: there is no one to offboard');
  return ask.search({
    message: 'Whom to offboard? (search by name, email or id)',
    pageSize: 10,
    source: (term) => heldBy(offered, term),
  });
}

/** People who hold access, searched by name, email or id as the person types: at most 50 choices. */
function heldBy(offered: Person[], term: string | undefined): Choice<string>[] {
  const t = (term ?? '').trim().toLowerCase();
  return offered
    .filter((p) => t === '' || `${p.name}\u0000${p.email}\u0000${p.id}`.toLowerCase().includes(t))
    .slice(0, 50)
    .map((p) => ({ value: p.id, name: `${p.name} <${p.email}>`, short: `${p.name} (${p.id})` }));
}
