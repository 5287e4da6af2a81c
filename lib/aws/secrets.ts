/**
 * `${secret:NAME}` in a pipeline file, resolved from AWS Secrets Manager by name when the pipeline
 * runs in AWS. Values never go to logs; the streamer SDK redacts them from its own output too.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

import { referencedNames } from '../pipeline/references.ts';

export function secretNamesIn(text: string): string[] {
  return referencedNames(text, 'secret');
}

export async function fetchSecrets(
  client: SecretsManagerClient,
  names: readonly string[],
): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const name of names) {
    try {
      const secret = await client.send(new GetSecretValueCommand({ SecretId: name }));
      values[name] =
        secret.SecretString ?? Buffer.from(secret.SecretBinary ?? new Uint8Array()).toString('utf8');
    } catch (error) {
      throw new Error(
        `secret ${name}: ${(error as Error).name}: cannot be read from Secrets Manager (does it exist, and may this function read it?)`,
        { cause: error },
      );
    }
  }
  return values;
}
