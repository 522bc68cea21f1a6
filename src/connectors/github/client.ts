import { createAppAuth } from '@octokit/auth-app';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import Bottleneck from 'bottleneck';
import type { GithubConnector } from './settings.generated.js';

const GithubClient = Octokit.plugin(throttling, retry);
export type Client = InstanceType<typeof GithubClient>;

/** How many times a rate-limited request is retried before it is handed back as transient. */
export const RATE_LIMIT_RETRIES = 4;

/**
 * An octokit with the throttling and retry plugins: primary and secondary
 * rate limits honoured (retry-after, x-ratelimit-reset), server errors
 * retried, and writes one at a time with a pause between them.
 */
export function createClient(settings: GithubConnector, env: NodeJS.ProcessEnv): Client {
  const baseUrl = settings.baseUrl ?? env.GITHUB_API_URL ?? 'https://api.github.com';
  const writeInterval = settings.writeIntervalMs;
  // A test knob: how long one second of retry-after lasts (GitHub's own unit is a second).
  const retryAfterBaseValue = Number(env.IDEN_GITHUB_RETRY_AFTER_UNIT_MS ?? 1000);
  const auth = settings.app
    ? {
        authStrategy: createAppAuth,
        auth: {
          appId: settings.app.appId,
          privateKey: env[settings.app.privateKeyEnv] ?? '',
          installationId: settings.app.installationId,
        },
      }
    : { auth: env[settings.tokenEnv ?? 'GITHUB_TOKEN'] };
  return new GithubClient({
    ...auth,
    baseUrl,
    userAgent: 'iden',
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    retry: { doNotRetry: [400, 401, 403, 404, 410, 422, 451] },
    throttle: {
      retryAfterBaseValue,
      // Writes go one at a time; by default a second apart, three for those that notify people, as GitHub asks.
      ...(writeInterval === undefined
        ? {}
        : {
            write: new Bottleneck.Group({ maxConcurrent: 1, minTime: writeInterval }),
            notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: writeInterval }),
          }),
      onRateLimit: (_after: number, _options: object, _octokit: object, retryCount: number) =>
        retryCount < RATE_LIMIT_RETRIES,
      onSecondaryRateLimit: (_after: number, _options: object, _octokit: object, retryCount: number) =>
        retryCount < RATE_LIMIT_RETRIES,
    },
  });
}
