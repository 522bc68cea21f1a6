import { createHash, createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

/** SHA-256 as @smithy/signature-v4 wants it (a Checksum), from node's crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

export type SignatureCheck =
  | { ok: true; accessKeyId: string }
  | {
      ok: false;
      error:
        | 'UnrecognizedClientException'
        | 'InvalidSignatureException'
        | 'MissingAuthenticationTokenException';
      message: string;
    };

/**
 * Checks a request's AWS Signature Version 4 as AWS does: the access key must
 * be known, the scope must name the service and Region, and the signature
 * recomputed over the signed headers and body with the key's secret (by
 * @smithy/signature-v4, the SDK's own signer) must match.
 */
export async function verifySignature(
  request: { method: string; headers: IncomingHttpHeaders; body: string },
  keys: ReadonlyMap<string, string>,
  expected: { service: string; region: string },
): Promise<SignatureCheck> {
  const authorization = String(request.headers.authorization ?? '');
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match)
    return {
      ok: false,
      error: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    };
  const [, accessKeyId = '', , region, service, signed = '', signature] = match;
  const secretAccessKey = keys.get(accessKeyId);
  if (secretAccessKey === undefined)
    return {
      ok: false,
      error: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  if (region !== expected.region || service !== expected.service)
    return {
      ok: false,
      error: 'InvalidSignatureException',
      message: `Credential should be scoped to a valid region and service ('${expected.region}', '${expected.service}').`,
    };
  const headers: Record<string, string> = {};
  for (const name of signed.split(';')) headers[name] = String(request.headers[name] ?? '');
  const host = headers.host ?? '';
  const [hostname = '', port] = host.split(':');
  const amzDate = headers['x-amz-date'] ?? '';
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    service: expected.service,
    region: expected.region,
    credentials: { accessKeyId, secretAccessKey },
    sha256: Sha256,
    applyChecksum: false,
  });
  const resigned = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname,
      ...(port ? { port: Number(port) } : {}),
      path: '/',
      query: {},
      headers,
      body: request.body,
    },
    { signingDate },
  );
  const recomputed = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization ?? ''))?.[1];
  if (recomputed !== signature)
    return {
      ok: false,
      error: 'InvalidSignatureException',
      message:
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    };
  return { ok: true, accessKeyId };
}
