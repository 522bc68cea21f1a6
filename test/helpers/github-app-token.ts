import { createVerify, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/**
 * GitHub's `POST /app/installations/{id}/access_tokens`: an installation token
 * for a JWT the App's public key verifies, else 401. Outside the REST subset
 * this project vendors, so not checked against it: GitHub's documented shape.
 */
export function answerInstallationToken(
  res: ServerResponse,
  installation: string,
  authorization: string,
  appKey: KeyObject | undefined,
  now: number,
): void {
  const jwt = authorization.replace(/^bearer /i, '');
  const [header = '', claims = '', signature = ''] = jwt.split('.');
  const valid =
    appKey !== undefined &&
    createVerify('RSA-SHA256')
      .update(`${header}.${claims}`)
      .verify(appKey, Buffer.from(signature, 'base64url'));
  res.writeHead(valid ? 201 : 401, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify(
      valid
        ? {
            token: `ghs_installation_${installation}`,
            expires_at: new Date(now + 3_600_000).toISOString(),
            permissions: {},
            repository_selection: 'all',
          }
        : {
            message: 'A JSON web token could not be decoded',
            documentation_url: 'https://docs.github.com/rest',
          },
    ),
  );
}
