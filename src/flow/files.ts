// The files `iden grant`, `change` and `offboard` write, as a person would
// write them: the editor's schema line, fields in the README's order, dates as
// given, and an edit that keeps the comments and layout already there.
import { Document, isMap, isSeq, parseDocument, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { GRANT_FILE_LIMIT, OTHER_FILE_LIMIT } from '../load/parse-yaml.js';
import type { Tree } from '../load/tree.js';
import type { AccessRepo, GrantFile } from '../model/repo.js';

/** The README's order of a grant's fields. */
const ORDER = [
  'user',
  'app',
  'permissions',
  'license',
  'start',
  'end',
  'emergency',
  'exception',
  'reason',
] as const;

export const SCHEMA_LINE = '# yaml-language-server: $schema=../../schemas/grant.schema.json';

/** A new grant file. */
export function grantText(grant: GrantFile): string {
  const ordered = Object.fromEntries(
    ORDER.filter((key) => grant[key] !== undefined).map((key) => [key, grant[key]]),
  );
  const doc = new Document(ordered);
  const permissions = doc.get('permissions', true);
  if (isSeq(permissions)) permissions.flow = true;
  return `${SCHEMA_LINE}\n${doc.toString({ lineWidth: 0, flowCollectionPadding: false })}`;
}

export interface GrantEdit {
  permissions?: string[];
  /** null removes the field. */
  license?: string | null;
  start?: string | null;
  end?: string | null;
  reason?: string | null;
}

/**
 * An existing grant file with some fields changed: its comments, its schema
 * line and the style of its other fields are kept, and a field it did not
 * have goes where the README's order puts it.
 */
export function editGrantText(text: string, edit: GrantEdit): string {
  const doc = parseDocument(text);
  if (!isMap(doc.contents)) throw new Error('the file is not a mapping');
  for (const key of ['permissions', 'license', 'start', 'end', 'reason'] as const) {
    const value = edit[key];
    if (value === undefined) continue;
    if (value === null) {
      doc.delete(key);
      continue;
    }
    if (key === 'permissions') {
      const seq = doc.createNode(value) as YAMLSeq;
      const before = doc.get('permissions', true);
      seq.flow = !isSeq(before) || before.flow === true;
      doc.set('permissions', seq);
    } else doc.set(key, value);
  }
  const map = doc.contents as YAMLMap<Scalar<string>, unknown>;
  const rank = (key: unknown) => {
    const i = (ORDER as readonly string[]).indexOf(String((key as Scalar).value ?? key));
    return i < 0 ? ORDER.length : i;
  };
  map.items.sort((a, b) => rank(a.key) - rank(b.key));
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** Removes a person from a list at `path` of a YAML file (roles, approvers); undefined when they are not in it. */
export function removeFromList(text: string, path: (string | number)[], id: string): string | undefined {
  const doc = parseDocument(text);
  const list = doc.getIn(path, true);
  if (!isSeq(list)) return undefined;
  const index = list.items.findIndex((item) => String((item as Scalar).value ?? item) === id);
  if (index < 0) return undefined;
  return withoutItem(text, doc, list, index);
}

/** Removes a person's entry from `_people.yaml`, keeping the rest as it is; undefined when there is none. */
export function removePersonText(text: string, id: string): string | undefined {
  const doc = parseDocument(text);
  const people = doc.get('people', true);
  if (!isSeq(people)) return undefined;
  const index = people.items.findIndex((item) => isMap(item) && item.get('id') === id);
  if (index < 0) return undefined;
  return withoutItem(text, doc, people, index);
}

/**
 * The text with one item of a sequence cut out, and every other byte as it was
 * (other people's entries, comments, quoting, flow mappings): a block item's
 * lines, or a flow item and its comma. Where the shape is unusual the document
 * is written out again instead.
 */
function withoutItem(text: string, doc: Document, seq: YAMLSeq, index: number): string {
  const item = seq.items[index] as { range?: [number, number, number] } | undefined;
  const range = item?.range;
  const rangeOf = (i: number) => (seq.items[i] as { range?: [number, number, number] } | undefined)?.range;
  const lineStart = (at: number) => text.lastIndexOf('\n', at - 1) + 1;
  const afterLine = (at: number) => {
    // The end of the line holding the item's last character.
    const newline = text.indexOf('\n', Math.max(at - 1, 0));
    return newline < 0 ? text.length : newline + 1;
  };
  if (range) {
    if (seq.flow) {
      const next = rangeOf(index + 1);
      const previous = rangeOf(index - 1);
      if (next) return text.slice(0, range[0]) + text.slice(next[0]);
      if (previous) return text.slice(0, previous[1]) + text.slice(range[1]);
      return text.slice(0, range[0]) + text.slice(range[1]);
    }
    const start = lineStart(range[0]);
    // A block item, unless it is the last one (an empty list must still be a list: written out again).
    if (seq.items.length > 1 && /^[ \t]*-[ \t]+$/.test(text.slice(start, range[0])))
      return text.slice(0, start) + text.slice(afterLine(range[1]));
  }
  seq.items.splice(index, 1);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** What `iden change` was asked to do. */
export interface ChangeEdit {
  add: string[];
  remove: string[];
  license?: string;
  /** null removes the field. */
  start?: string | null;
  end?: string | null;
  reason?: string | null;
}

/** An existing grant file edited: its new text, what it grants, and the changes in words (empty: none). */
export function editFor(
  tree: Tree,
  source: string,
  was: GrantFile,
  edit: ChangeEdit,
): { text: string; grant: GrantFile; changes: string[] } {
  const before = was.permissions ?? [];
  const permissions = [
    ...before.filter((p) => !edit.remove.includes(p)),
    ...edit.add.filter((p) => !before.includes(p)),
  ];
  const changes = [
    ...edit.add.filter((p) => !before.includes(p)).map((p) => `+${p}`),
    ...edit.remove.map((p) => `-${p}`),
  ];
  const change: GrantEdit = {};
  if (changes.length > 0) change.permissions = permissions;
  if (edit.license !== undefined && edit.license !== was.license) {
    change.license = edit.license;
    changes.push(`license ${edit.license}`);
  }
  if (edit.start !== undefined && edit.start !== (was.start ?? null)) {
    change.start = edit.start;
    changes.push(edit.start === null ? 'from now' : `from ${edit.start}`);
  }
  if (edit.end !== undefined && edit.end !== (was.end ?? null)) {
    change.end = edit.end;
    changes.push(edit.end === null ? 'no end' : `until ${edit.end}`);
  }
  if (edit.reason !== undefined && edit.reason !== (was.reason ?? null)) {
    change.reason = edit.reason;
    changes.push('reason');
  }
  const text = Buffer.from(tree.read(source, GRANT_FILE_LIMIT)).toString('utf8');
  const fields: Record<string, unknown> = { ...was };
  for (const [k, v] of Object.entries(change)) {
    if (v === null) delete fields[k];
    else fields[k] = v;
  }
  const grant = fields as unknown as GrantFile;
  return { text: changes.length > 0 ? editGrantText(text, change) : text, grant, changes };
}

/**
 * Offboarding's policy files: the person's entry gone from `_people.yaml`,
 * and their name from the settings' roles and from each app's approvers (a
 * directory that names someone gone does not validate).
 */
export function offboardChanges(repo: AccessRepo, person: string): Map<string, string> {
  const out = new Map<string, string>();
  const read = (source: string) => Buffer.from(repo.tree.read(source, OTHER_FILE_LIMIT)).toString('utf8');
  if (repo.people) {
    const text = removePersonText(read(repo.people.source ?? repo.people.file), person);
    if (text !== undefined) out.set(repo.people.file, text);
  }
  if (repo.settings) {
    let text: string | undefined = read(repo.settings.source ?? repo.settings.file);
    let changed = false;
    for (const role of ['super-admin', 'users-read-write']) {
      const next = removeFromList(text, ['roles', role], person);
      if (next !== undefined) {
        text = next;
        changed = true;
      }
    }
    if (changed) out.set(repo.settings.file, text);
  }
  for (const app of repo.apps.values()) {
    const text = removeFromList(read(app.source ?? app.file), ['approvers'], person);
    if (text !== undefined) out.set(app.file, text);
  }
  return out;
}
