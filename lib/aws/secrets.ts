/**
 * `${secret:NAME}` in a pipeline file, resolved from AWS Secrets Manager by name when the pipeline
 * runs in AWS. Values are cached per container for `maxAgeSeconds` (Powertools' parameters utility),
 * so a rotated secret is picked up without a cold start and a warm function does not call Secrets
 * Manager on every invocation. Values never go to logs; the streamer SDK redacts them from its output.
 */

import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { type TokenStore, tokensFromJson, tokensToJson } from '../streamer/token-store.ts';

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

/**
 * A secret a streamer rewrites (a rotating OAuth refresh token): read fresh on every run, never from
 * the cache, since the last run may have rotated it; written with PutSecretValue before the new token
 * is used. The stack lets a tap's function do this on its own token secret only.
 */
export function secretTokenStore(client: SecretsManagerClient, name: string): TokenStore {
  const where = `secret ${name}`;
  return {
    description: where,
    async read() {
      try {
        const value = await client.send(new GetSecretValueCommand({ SecretId: name }));
        const text =
          value.SecretString ?? Buffer.from(value.SecretBinary ?? new Uint8Array()).toString('utf8');
        return text.trim() === '' ? undefined : tokensFromJson(text, where);
      } catch (error) {
        if (error instanceof ResourceNotFoundException)
          throw new SecretReadError(
            `${where} does not exist: create it with the first refresh token (trib auth drift prints it into a token file)`,
            { cause: error },
          );
        throw new SecretReadError(`${where}: cannot be read: ${(error as Error).name}`, { cause: error });
      }
    },
    async write(tokens) {
      try {
        await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: tokensToJson(tokens) }));
      } catch (error) {
        throw new SecretReadError(
          `${where}: the rotated token cannot be stored (${(error as Error).name}); does the stack grant this function PutSecretValue on it (npm run deploy:check)?`,
          { cause: error },
        );
      }
    },
  };
}
