import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { IdentitystoreClientConfig } from '@aws-sdk/client-identitystore';
import type { AwsIdentityCenterConnector } from './settings.generated.js';

/** The Region the instance lives in: the app's setting, else the environment's. */
export function regionOf(settings: AwsIdentityCenterConnector, env: NodeJS.ProcessEnv): string | undefined {
  return settings.region ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined);
}

/**
 * Whether the environment names a source the SDK's credential chain reads:
 * keys, a profile or a shared credentials file, web identity (EKS, GitHub
 * OIDC), container credentials (ECS, EKS Pod Identity). An EC2 instance
 * profile cannot be seen without a network call, so it is declared by
 * AWS_EC2_METADATA_DISABLED=false (the SDK's own variable, at its default).
 */
function namesCredentials(env: NodeJS.ProcessEnv): boolean {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return true;
  if (env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return true;
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return true;
  if (env.AWS_EC2_METADATA_DISABLED === 'false') return true;
  const home = env.HOME ?? env.USERPROFILE;
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE ?? (home ? join(home, '.aws', 'credentials') : undefined),
    env.AWS_CONFIG_FILE ?? (home ? join(home, '.aws', 'config') : undefined),
  ];
  return files.some((f) => f !== undefined && existsSync(f));
}

/** What keeps iden from reaching the instance, or undefined; never a secret's value. */
export function missingCredentials(
  settings: AwsIdentityCenterConnector,
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (!regionOf(settings, env)) return 'no AWS Region: set region in the connector block, or AWS_REGION';
  if (!namesCredentials(env))
    return 'no AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE, container credentials, or AWS_EC2_METADATA_DISABLED=false for an instance profile)';
  return undefined;
}

/**
 * Credentials from the environment iden was given (not only the process's):
 * keys when it holds them, else the SDK's standard chain with its profile.
 */
export async function credentialsFrom(
  env: NodeJS.ProcessEnv,
): Promise<NonNullable<IdentitystoreClientConfig['credentials']>> {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY)
    return {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
    };
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return defaultProvider(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {});
}
