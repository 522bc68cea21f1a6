// The query options of Graph's collections the loopback server answers:
// $filter in the forms the connector uses, and $select's projection.

/** A request the test server refuses because the connector should never send it: the test fails on it. */
export class Misuse extends Error {}

type Filter = (item: Record<string, unknown>) => boolean;

/** The $filter forms Graph supports that the connector uses; any other is a misuse. */
export function parseFilter(text: string | null, filterable: readonly string[]): Filter {
  if (text === null) return () => true;
  const strings = (list: string) =>
    [...list.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'").toLowerCase());
  let m = /^(\w+) eq '((?:[^']|'')*)'$/.exec(text);
  if (m && filterable.includes(m[1]!)) {
    const [, property, value] = m;
    return (item) => String(item[property!] ?? '').toLowerCase() === value!.replace(/''/g, "'").toLowerCase();
  }
  m = /^(\w+) in \(((?:'(?:[^']|'')*',?)+)\)$/.exec(text);
  if (m && filterable.includes(m[1]!)) {
    const values = new Set(strings(m[2]!));
    if (values.size > 15)
      throw new Misuse(`$filter ${m[1]} in (…) with ${values.size} values: Graph allows 15`);
    const property = m[1]!;
    return (item) => values.has(String(item[property] ?? '').toLowerCase());
  }
  m = /^assignedLicenses\/any\(x:x\/skuId eq ([0-9a-f-]{36})\)$/.exec(text);
  if (m && filterable.includes('assignedLicenses')) {
    const skuId = m[1]!;
    return (item) => (item.assignedLicenses as { skuId: string }[]).some((l) => l.skuId === skuId);
  }
  throw new Misuse(`$filter ${JSON.stringify(text)}: not a filter this server (or the connector) uses`);
}

export function project(item: Record<string, unknown>, query: URLSearchParams): Record<string, unknown> {
  const select = query.get('$select');
  if (!select) return item;
  // An expanded relation comes whatever $select says, as Graph gives it.
  const keep = [...select.split(','), ...('manager' in item ? ['manager'] : [])];
  return Object.fromEntries(keep.flatMap((k) => (k in item ? [[k, item[k]]] : [])));
}
