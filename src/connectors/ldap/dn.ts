// Distinguished names as the directory compares them: attribute types and
// (for the attributes groups and people are named by) values without regard
// to case, spaces around separators ignored, escapes decoded. Servers write
// one DN in several ways (`CN=Alice,CN=Users` from AD, `cn=alice, cn=users`
// typed by hand, `\2C` or `\,` for a comma): compared raw, one member would
// read as two, and a removal would miss the value it means.

/** The DN's relative names, each a list of `type=value` pairs, decoded; undefined when it does not parse. */
export function parseDn(dn: string): [string, string][][] | undefined {
  const rdns: [string, string][][] = [];
  let rdn: [string, string][] = [];
  let type = '';
  let value = '';
  let inValue = false;
  let quoted = false;
  const end = () => {
    if (!inValue || type.trim() === '') return false;
    rdn.push([type.trim().toLowerCase(), value.trim().toLowerCase()]);
    type = '';
    value = '';
    inValue = false;
    return true;
  };
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (!inValue) {
      if (c === '=') inValue = true;
      else if (c === ',' || c === '+') return undefined;
      else type += c;
      continue;
    }
    if (c === '\\') {
      const hex = dn.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        // A UTF-8 sequence is escaped byte by byte: gather the run, then decode it.
        const bytes: number[] = [];
        while (dn[i] === '\\' && /^[0-9a-fA-F]{2}$/.test(dn.slice(i + 1, i + 3))) {
          bytes.push(Number.parseInt(dn.slice(i + 1, i + 3), 16));
          i += 3;
        }
        i -= 1;
        value += Buffer.from(bytes).toString('utf8');
      } else if (i + 1 < dn.length) value += dn[++i];
      continue;
    }
    if (c === '"') {
      quoted = !quoted;
      continue;
    }
    if (!quoted && (c === ',' || c === ';' || c === '+')) {
      if (!end()) return undefined;
      if (c !== '+') {
        rdns.push(rdn.sort(([a], [b]) => a.localeCompare(b)));
        rdn = [];
      }
      continue;
    }
    value += c;
  }
  if (dn.trim() === '') return [];
  if (!end()) return undefined;
  rdns.push(rdn.sort(([a], [b]) => a.localeCompare(b)));
  return rdns;
}

/** One key per entry, however its DN was written; a DN that does not parse keys as itself, lower-cased. */
export function dnKey(dn: string): string {
  const rdns = parseDn(dn);
  if (!rdns) return dn.trim().toLowerCase();
  return rdns.map((rdn) => rdn.map(([t, v]) => `${t}=${JSON.stringify(v)}`).join('+')).join(',');
}

/** Whether `dn` is `base` or lies below it. */
export function isUnder(dn: string, base: string): boolean {
  const entry = parseDn(dn);
  const top = parseDn(base);
  if (!entry || !top || top.length > entry.length) return false;
  const key = (rdns: [string, string][][]) => rdns.map((r) => JSON.stringify(r));
  const tail = key(entry.slice(entry.length - top.length));
  return key(top).every((part, i) => part === tail[i]);
}

/** A uniqueMember value without its optional unique identifier (`#'0101'B`, RFC 4517 §3.3.23). */
export function withoutUid(value: string): string {
  return value.replace(/#'[01]*'B$/, '');
}
