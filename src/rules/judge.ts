import type { AccessRepo, GrantFile } from '../model/repo.js';
import { peopleById } from '../model/repo.js';
import {
  type BasePolicy,
  type Contributors,
  type FileVerdict,
  GRANT_PATH,
  judgeReviews,
  latestReviews,
  personOf,
  type Review,
  type RuleVerdict,
} from '../policy/classify.js';
import { attributeValues } from './evaluate.js';
import { emergencyWindow, type Rule, rulesFor } from './resolve.js';

export interface RulesInput {
  /** The protected branch as it stood: its rules decide, never the ones a change brings. */
  policy: AccessRepo;
  before: AccessRepo;
  after: AccessRepo;
  base: BasePolicy;
  contributors: Contributors;
  reviews: readonly Review[];
  head: string;
}

/**
 * The access rules' part of the one judge, after classify: each grant file a
 * change adds or edits must have the approvals each of its rules asks for,
 * from that rule's approvers (the grantee's manager included where it says
 * so); a rule with directGrant: false lets no admin grant without them; an
 * exception to a conflict needs a Super Admin; emergency access by someone
 * the rule lets use it passes at once and is marked. Verdicts are changed in
 * place and returned. Without rules in the protected branch, nothing changes.
 */
export function judgeRules(verdicts: FileVerdict[], input: RulesInput): FileVerdict[] {
  const { policy, base, contributors } = input;
  const settings = policy.settings?.value;
  const hasRules =
    [...policy.apps.values()].some(
      (a) =>
        a.value?.rule || a.value?.entitlements.some((e) => e.rule) || a.value?.licenses?.some((l) => l.rule),
    ) || (settings?.conflicts?.length ?? 0) > 0;
  if (!hasRules) return verdicts;
  const writers = contributors.logins.map((l) => personOf(base, l, contributors.ids?.get(l.toLowerCase())));
  const writerPeople = new Set(writers.filter((p): p is string => p !== undefined));
  const everyWriterKnown = contributors.unknown.length === 0 && writers.every((p) => p !== undefined);
  const latest = latestReviews([...input.reviews]);
  const people = peopleById(policy);
  const afterGrants = new Map(input.after.grants.map((g) => [g.file, g.value]));
  const beforeGrants = new Map(input.before.grants.map((g) => [g.file, g.value]));

  for (const verdict of verdicts) {
    const path = GRANT_PATH.exec(verdict.file);
    if (!path || verdict.change === 'deleted' || verdict.classification === 'policy') continue;
    const grant = afterGrants.get(verdict.file);
    if (!grant) continue;
    const app = policy.apps.get(path[1]!);
    const rules = rulesFor(path[1]!, app?.file ?? '', app?.value, grant, settings);
    const affected = new Set([
      grant.user,
      ...(beforeGrants.get(verdict.file)?.user ? [beforeGrants.get(verdict.file)!.user] : []),
    ]);
    const count = (eligible: Set<string>, role: string) =>
      judgeReviews(latest, input.head, eligible, writerPeople, affected, base, role);
    if (rules.some((r) => r.privileged)) verdict.privileged = true;

    if (grant.emergency === true && rules.length > 0 && rules.every((r) => r.emergency)) {
      const allowed = rules.every(
        (r) => everyWriterKnown && [...writerPeople].every((p) => mayUseEmergency(r, p, base)),
      );
      if (allowed && writerPeople.size > 0) {
        verdict.emergency = true;
        verdict.ok = true;
        verdict.rules = rules.map((r) => ({
          rule: r.name,
          needed: 0,
          counted: [],
          met: true,
          why: `emergency access by ${[...writerPeople].join(', ')}: applied without approval, notified at once, and to be approved after the fact within ${emergencyWindow(settings)} (a pull request that removes emergency: true), or removed`,
        }));
        verdict.reason = verdict.rules[0]!.why;
        continue;
      }
      verdict.rules = rules.map((r) => ({
        rule: r.name,
        needed: r.approvals,
        counted: [],
        met: false,
        why: `emergency access only by ${(r.emergency?.by ?? ['super-admin', 'users-read-write']).join(', ')}`,
      }));
      verdict.ok = false;
      verdict.reason = `${verdict.reason}; emergency: true is allowed only to ${(rules[0]!.emergency?.by ?? ['super-admin', 'users-read-write']).join(', ')}, and ${[...writerPeople].join(', ') || 'someone iden cannot name'} wrote it`;
      continue;
    }

    const results: RuleVerdict[] = [];
    const notes = new Map<string, FileVerdict['reviews'][number]>();
    const note = (judged: ReturnType<typeof count>) => {
      for (const n of judged.notes) if (!notes.get(n.login)?.counted) notes.set(n.login, n);
    };
    const direct = verdict.classification === 'direct-grant';
    for (const rule of rules) {
      if (direct && rule.directGrant) {
        results.push({
          rule: rule.name,
          needed: 0,
          counted: [],
          met: true,
          why: 'a direct grant by an admin',
        });
        continue;
      }
      const eligible = approversOf(rule, grant, people, base, path[1]!);
      const judged = count(eligible, rule.approversName);
      note(judged);
      const missing = rule.approvals - judged.by.length;
      const met = missing <= 0;
      const left = judged.could.filter((p) => !judged.by.includes(p));
      results.push({
        rule: rule.name,
        needed: rule.approvals,
        counted: judged.by,
        met,
        ...(met ? {} : { from: left }),
        why: met
          ? `approved by ${judged.by.join(', ')} (${rule.approvals} needed)`
          : `needs ${missing} more approval${missing === 1 ? '' : 's'} from ${rule.approversName}${judged.could.length > 0 ? ` (${judged.could.filter((p) => !judged.by.includes(p)).join(', ')})` : ': no one left who may give it'}${direct ? ' (directGrant: false: even an admin’s grant needs it)' : ''}`,
      });
    }

    const exception = grant.exception;
    const oldException = beforeGrants.get(verdict.file)?.exception;
    if (exception && JSON.stringify(exception) !== JSON.stringify(oldException)) {
      const judged = count(new Set(base.superAdmins), 'a Super Admin');
      note(judged);
      results.push({
        rule: 'exception to a separation-of-duties conflict',
        needed: 1,
        counted: judged.by,
        met: judged.by.length > 0,
        ...(judged.by.length > 0 ? {} : { from: judged.could }),
        why:
          judged.by.length > 0
            ? `exception approved by Super Admin ${judged.by.join(', ')}`
            : `the exception needs a Super Admin's approval${judged.could.length > 0 ? ` (${judged.could.join(', ')})` : ''}`,
      });
    }
    if (results.length === 0) continue;
    verdict.rules = results;
    // The reviews as the rules counted them, not as one approval by any app approver would.
    if (notes.size > 0) verdict.reviews = [...notes.values()];
    const unmet = results.filter((r) => !r.met);
    if (unmet.length > 0) {
      verdict.ok = false;
      // Who could approve is who the unmet rules count, not any app approver.
      verdict.approvers = [...new Set(unmet.flatMap((r) => r.from ?? []))];
      const why = unmet.map((r) => `${r.rule}: ${r.why}`).join('; ');
      verdict.reason = direct ? `a direct grant, but ${why}` : why;
    } else if (!direct) {
      // Approvals per rule decide, not one approval by any app approver.
      verdict.ok = true;
      verdict.reason = results.map((r) => `${r.rule}: ${r.why}`).join('; ');
    }
  }
  return verdicts;
}

/** Whether a person may grant emergency access under a rule. */
function mayUseEmergency(rule: Rule, person: string, base: BasePolicy): boolean {
  const by = rule.emergency?.by ?? ['super-admin', 'users-read-write'];
  return (
    by.includes(person) ||
    (by.includes('super-admin') && base.superAdmins.has(person)) ||
    (by.includes('users-read-write') && base.readWrite.has(person))
  );
}

/** A rule's approvers as people: named ones, the grantee's manager, or else the app's approvers and the Super Admins. */
function approversOf(
  rule: Rule,
  grant: GrantFile,
  people: ReturnType<typeof peopleById>,
  base: BasePolicy,
  app: string,
): Set<string> {
  if (!rule.approvers) return new Set([...(base.approvers.get(app) ?? []), ...base.superAdmins]);
  const out = new Set<string>();
  for (const a of rule.approvers) {
    if (a !== 'manager') out.add(a);
    else {
      const person = people.get(grant.user);
      for (const m of person ? attributeValues(person, 'manager') : []) out.add(m);
    }
  }
  return out;
}
