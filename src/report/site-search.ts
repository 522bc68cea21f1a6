// The report's search: an index cut by prefix into small script files
// (search/k<prefix>.js), each loaded when a query first needs it, so a
// keystroke on a million-grant report reads a few kilobytes, not the whole
// directory. A prefix with more than CAP entries is split by its next letter
// and keeps a sample; a leaf holds every entry with a word starting with it.
// Script files, not fetch: a page opened from disk may load scripts beside it
// (script-src 'self'), and nothing else.

/** One thing to find: an app, a person, or access (an entitlement or licence tier of an app). */
export interface SearchEntry {
  kind: 'app' | 'person' | 'access';
  id: string;
  name: string;
  /** Shown and searched beside the name: a person's email, an app's count, what access gives. */
  extra: string;
  /** Access: the app it belongs to (its page holds it, at #access-<id>). */
  app?: string;
}

const CAP = 300;
const SAMPLE = 50;
const DEEPEST = 40;

/** A file name part for a prefix: letters and digits as they are, anything else as _hex_. */
export const shardName = (prefix: string): string =>
  `k${[...prefix].map((c) => (/[a-z0-9]/.test(c) ? c : `_${c.codePointAt(0)!.toString(16)}_`)).join('')}.js`;

/**
 * The words an entry is found by: its id, its name's words, a person's email
 * whole; access also by the parts of its id (platform-write: platform, write)
 * and the words of what it gives.
 */
function words(entry: SearchEntry): string[] {
  const all = [entry.id, ...entry.name.split(/\s+/)];
  if (entry.kind === 'person') all.push(entry.extra);
  if (entry.kind === 'access') all.push(...entry.id.split(/[-_.:/]+/), ...entry.extra.split(/[\s,:;()]+/));
  return [...new Set(all.map((w) => w.toLowerCase()).filter((w) => w.length > 0))];
}

type Row =
  | [kind: 'a' | 'p', id: string, name: string, extra: string]
  | [kind: 'e', id: string, name: string, extra: string, app: string];
const row = (e: SearchEntry): Row =>
  e.kind === 'access'
    ? ['e', e.id, e.name, e.extra, e.app ?? '']
    : [e.kind === 'app' ? 'a' : 'p', e.id, e.name, e.extra];

/** Every shard of the index: file name and its script text. */
export function* searchShards(entries: readonly SearchEntry[]): Generator<[string, string]> {
  const pairs: [string, number][] = [];
  entries.forEach((e, i) => {
    for (const w of words(e)) pairs.push([w, i]);
  });
  // Sorted by word: every prefix is then a contiguous run.
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
  const script = (prefix: string, data: unknown) =>
    [shardName(prefix), `idenShard(${JSON.stringify(prefix)},${JSON.stringify(data)});\n`] as [
      string,
      string,
    ];
  const stack: [prefix: string, from: number, to: number][] = [];
  // The first letters: runs of pairs sharing their first character.
  for (let i = 0; i < pairs.length; ) {
    const c = String.fromCodePoint(pairs[i]![0].codePointAt(0)!);
    let j = i;
    while (j < pairs.length && pairs[j]![0].startsWith(c)) j++;
    stack.push([c, i, j]);
    i = j;
  }
  while (stack.length > 0) {
    const [prefix, from, to] = stack.pop()!;
    const ids = [...new Set(pairs.slice(from, to).map(([, i]) => i))].sort((a, b) => a - b);
    if (ids.length <= CAP || prefix.length >= DEEPEST) {
      yield script(prefix, { rows: ids.slice(0, CAP * 4).map((i) => row(entries[i]!)), count: ids.length });
      continue;
    }
    // Exact matches of the prefix first in the sample: they can go no deeper.
    const exact = pairs
      .slice(from, to)
      .filter(([w]) => w === prefix)
      .map(([, i]) => i);
    const sample = [...new Set([...exact, ...ids])].slice(0, SAMPLE);
    yield script(prefix, { split: true, count: ids.length, sample: sample.map((i) => row(entries[i]!)) });
    const depth = [...prefix].length;
    for (let i = from; i < to; ) {
      const w = pairs[i]![0];
      if ([...w].length <= depth) {
        i++;
        continue;
      }
      const next = [...w].slice(0, depth + 1).join('');
      let j = i;
      while (j < to && pairs[j]![0].startsWith(next)) j++;
      stack.push([next, i, j]);
      i = j;
    }
  }
}

/** The page's side: loads the shards a query needs, shows up to 100 hits, says how many. */
export const SEARCH_SCRIPT = `
const box = document.getElementById('search');
const results = document.getElementById('results');
const shown = document.getElementById('shown');
const shards = new Map();
const waiting = new Map();
window.idenShard = (key, data) => {
  shards.set(key, data);
  const done = waiting.get(key);
  if (done) done();
};
const fileOf = (key) => 'search/k' + [...key].map((c) => /[a-z0-9]/.test(c) ? c : '_' + c.codePointAt(0).toString(16) + '_').join('') + '.js';
function load(key) {
  if (shards.has(key)) return Promise.resolve(shards.get(key));
  return new Promise((resolve) => {
    const script = document.createElement('script');
    script.src = fileOf(key);
    waiting.set(key, () => resolve(shards.get(key)));
    script.onerror = () => { shards.set(key, null); resolve(null); };
    document.head.append(script);
  });
}
const page = (id) => encodeURIComponent(id).replace(/%/g, '_') + '.html';
function cell(tr, text) { const td = document.createElement('td'); td.textContent = text; tr.append(td); return td; }
const KIND = { a: 'App', p: 'Person', e: 'Access' };
const hrefOf = (r) => r[0] === 'a' ? 'apps/' + page(r[1]) : r[0] === 'p' ? 'people/' + page(r[1]) : 'apps/' + page(r[4]) + '#access-' + encodeURIComponent(r[1]);
let ticket = 0;
box.addEventListener('input', async () => {
  const mine = ++ticket;
  const q = box.value.trim().toLowerCase();
  // Each word of the query leads to its own shard; the narrowest one answers.
  const found = await Promise.all(q.split(/\\s+/).filter(Boolean).map(async (word) => {
    const letters = [...word];
    let depth = 1;
    let shard = await load(letters.slice(0, depth).join(''));
    while (shard && shard.split && depth < letters.length) {
      depth++;
      shard = await load(letters.slice(0, depth).join(''));
    }
    return shard;
  }));
  if (mine !== ticket) return;
  const rank = (s) => (s ? (s.split ? 1e9 : 0) + s.count : -1);
  const shard = found.reduce((best, s) => (best === undefined || rank(s) < rank(best) ? s : best), undefined) ?? null;
  const rows = shard ? (shard.split ? shard.sample : shard.rows) : [];
  const text = (r) => (r[1] + ' ' + r[2] + ' ' + r[3] + (r[4] ? ' ' + r[4] : '')).toLowerCase();
  const hits = rows.filter((r) => text(r).includes(q));
  const trs = hits.slice(0, 100).map((r) => {
    const tr = document.createElement('tr');
    tr.setAttribute('data-search', text(r));
    cell(tr, KIND[r[0]]);
    const td = document.createElement('td');
    const a = document.createElement('a');
    a.href = hrefOf(r);
    a.textContent = r[2];
    const small = document.createElement('small');
    small.textContent = r[0] === 'e' ? r[4] : r[1];
    td.append(a, ' ', small);
    tr.append(td);
    cell(tr, r[3]);
    return tr;
  });
  results.replaceChildren(...trs);
  shown.textContent = !q ? '' : shard && shard.split ? 'about ' + shard.count + ' match; ' + trs.length + ' shown, type more to narrow' : hits.length > trs.length ? trs.length + ' of ' + hits.length + ' shown' : trs.length + ' shown';
});
`;
