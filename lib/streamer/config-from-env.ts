/**
 * Config from environment variables, for the Stitch Streams way of running a streamer
 * (`GITHUB_ACCESS_TOKEN=… GITHUB_REPO_PATH=owner/repo trib tap github`), for Lambda and for containers:
 * - each config key's documented variable, the `env` keyword of its schema (`GITHUB_ACCESS_TOKEN`);
 * - `TAP_<STREAMER>_<KEY>` for every key (`TAP_GITHUB_ACCESS_TOKEN`), upper-cased, other characters
 *   as `_`, which wins over the documented one.
 * Values of non-string keys are read as JSON (`TAP_GITHUB_REPOSITORIES='["acme/api"]'`); a list of
 * strings may also be written with commas or spaces (`acme/api,acme/web`).
 */
import type { JsonObject, JsonSchema } from '../protocol/messages.ts';
import { type Streamer, StreamerConfigError } from './streamer.ts';

export function environmentVariableFor(streamer: string, key: string): string {
  return `TAP_${streamer}_${key}`.toUpperCase().replaceAll(/[^A-Z0-9]/g, '_');
}

/** The variables a streamer documents, by config key (`access_token` → `GITHUB_ACCESS_TOKEN`). */
export function documentedVariables(streamer: Streamer): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const [key, property] of Object.entries(
    (streamer.configSchema.properties ?? {}) as Record<string, JsonSchema>,
  ))
    if (typeof property.env === 'string') variables[key] = property.env;
  return variables;
}

export function configFromEnvironment(streamer: Streamer, env: NodeJS.ProcessEnv = process.env): JsonObject {
  const config: JsonObject = {};
  const documented = documentedVariables(streamer);
  for (const [key, property] of Object.entries(
    (streamer.configSchema.properties ?? {}) as Record<string, JsonSchema>,
  )) {
    const names = [environmentVariableFor(streamer.name, key), documented[key]].filter(
      (name): name is string => name !== undefined,
    );
    const name = names.find((candidate) => (env[candidate] ?? '') !== '');
    const value = name === undefined ? undefined : env[name];
    if (name === undefined || value === undefined) continue;
    const types = Array.isArray(property.type) ? property.type : [property.type];
    if (types.includes('string') || property.type === undefined) {
      config[key] = value;
      continue;
    }
    try {
      config[key] = JSON.parse(value);
    } catch {
      const items = property.items as JsonSchema | undefined;
      if (types.includes('array') && items?.type === 'string') {
        config[key] = value.split(/[\s,]+/).filter((item) => item !== '');
        continue;
      }
      throw new StreamerConfigError(
        `${name}: received ${JSON.stringify(value.slice(0, 40))}; expected JSON for a ${types.join(' or ')} value`,
      );
    }
  }
  return config;
}
