/**
 * Google's batch format (multipart/mixed, one `application/http` part per
 * request, answers matched by `Content-ID: <response-…>`), written and read
 * as plain text. Pure.
 */

export interface InnerRequest {
  method: string;
  /** The path and query from the host's root, e.g. `/admin/directory/v1/groups/g%40x/members`. */
  path: string;
  body?: unknown;
}

export interface InnerResponse {
  status: number;
  headers: Record<string, string>;
  /** The body's text ('' when none). */
  text: string;
}

/** The body and content type of a batch request holding `requests`, each part named by its index. */
export function encodeBatch(requests: readonly InnerRequest[], boundary: string): string {
  const parts = requests.map((r, i) => {
    const body = r.body === undefined ? '' : JSON.stringify(r.body);
    const head = [`${r.method} ${r.path} HTTP/1.1`];
    if (body) head.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`);
    return [
      `--${boundary}`,
      'Content-Type: application/http',
      `Content-ID: <item-${i}>`,
      '',
      ...head,
      '',
      body,
    ].join('\r\n');
  });
  return `${parts.join('\r\n')}\r\n--${boundary}--\r\n`;
}

/** The boundary a multipart content type names, if any. */
export function boundaryOf(contentType: string | null): string | undefined {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  return match ? (match[1] ?? match[2]) : undefined;
}

/** Splits a header block into a lower-cased map. */
function headerMap(lines: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * The answers of a batch response, by the index of the request each answers
 * (Content-ID `<response-item-N>`); undefined when the text is not a batch
 * answer at all.
 */
export function decodeBatch(text: string, boundary: string): Map<number, InnerResponse> | undefined {
  const delimiter = `--${boundary}`;
  if (!text.includes(delimiter)) return undefined;
  const answers = new Map<number, InnerResponse>();
  const chunks = text.split(delimiter).slice(1);
  for (const chunk of chunks) {
    if (chunk.startsWith('--')) break;
    const part = chunk.replace(/^\r?\n/, '');
    const [outer = '', ...rest] = part.split(/\r?\n\r?\n/);
    const id = /<response-item-(\d+)>/i.exec(headerMap(outer.split(/\r?\n/))['content-id'] ?? '');
    const inner = rest.join('\r\n\r\n');
    const [head = '', ...body] = inner.split(/\r?\n\r?\n/);
    const [statusLine = '', ...headerLines] = head.split(/\r?\n/);
    const status = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(statusLine);
    if (!id || !status) continue;
    answers.set(Number(id[1]), {
      status: Number(status[1]),
      headers: headerMap(headerLines),
      text: body.join('\r\n\r\n').trim(),
    });
  }
  return answers;
}
