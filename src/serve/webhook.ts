import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { send } from './http.js';
import type { Logger } from './log.js';

/** The largest webhook body accepted: GitHub's push payloads are capped at 25 MB; a push of grant files is far less. */
const MAX_BODY = 1024 * 1024;

/** GitHub's push webhook: HMAC-SHA256 over the raw body with the shared secret, compared in constant time. */
export function webhook(
  req: IncomingMessage,
  res: ServerResponse,
  secret: string | undefined,
  log: Logger,
  onPush: () => void,
): void {
  if (!secret) {
    log('warn', 'webhook refused', { why: 'IDEN_WEBHOOK_SECRET is not set' });
    send(res, 403, { error: 'webhooks are off: set IDEN_WEBHOOK_SECRET' });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY && !refused) {
      refused = true;
      log('warn', 'webhook refused', { why: 'body too large', bytes: size });
      send(res, 413, { error: 'body too large' });
      req.destroy();
      return;
    }
    if (!refused) chunks.push(chunk);
  });
  req.on('end', () => {
    if (refused) return;
    const body = Buffer.concat(chunks);
    const given = String(req.headers['x-hub-signature-256'] ?? '');
    const expected = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    const ok = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
    if (!ok) {
      log('warn', 'webhook refused', { why: given ? 'bad signature' : 'unsigned' });
      return send(res, 401, { error: 'bad or missing X-Hub-Signature-256' });
    }
    const event = req.headers['x-github-event'];
    if (event === 'ping') return send(res, 200, { ok: true });
    if (event !== 'push') return send(res, 202, { ignored: event ?? 'no event' });
    log('info', 'webhook push');
    onPush();
    send(res, 202, { ok: true });
  });
}
