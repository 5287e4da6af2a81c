/**
 * `${secret:NAME}` in a pipeline file, resolved from AWS Secrets Manager by name when the pipeline
 * runs in AWS. Values are cached per container for `maxAgeSeconds` (Powertools' parameters utility),
 * so a rotated secret is picked up without a cold start and a warm function does not call Secrets
 * Manager on every invocation. Values never go to logs; the streamer SDK redacts them from its output.
 */

import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export class SecretReadError extends Error {
  override readonly name = 'SecretReadError';
}

export class SecretsCache {
  private readonly provider: SecretsProvider;

  constructor(
    client: SecretsManagerClient,
    private readonly maxAgeSeconds: number,
  ) {
    this.provider = new SecretsProvider({ awsSdkV3Client: client });
  }

  async read(names: readonly string[]): Promise<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const name of names) {
      try {
        const value = await this.provider.get(name, { maxAge: this.maxAgeSeconds });
        values[name] =
          typeof value === 'string' ? value : Buffer.from(value ?? new Uint8Array()).toString('utf8');
      } catch (error) {
        const cause = (error as Error).cause as { name?: string } | undefined;
        throw new SecretReadError(
          `secret ${name}: ${cause?.name ?? (error as Error).name}: cannot be read from Secrets Manager. Does it exist in this account and region, and does the stack grant this function GetSecretValue on it (npm run deploy:check lists who reads what)?`,
          { cause: error },
        );
      }
    }
    return values;
  }
}
