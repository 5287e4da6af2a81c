/**
 * Config from environment variables, for Lambda and containers: `TAP_<STREAMER>_<KEY>` for each key of
 * the config schema (`TAP_GITHUB_ACCESS_TOKEN`), upper-cased, other characters as `_`. Values of
 * non-string keys are read as JSON (`TAP_GITHUB_REPOSITORIES='["acme/api"]'`).
 */
import type { JsonObject, JsonSchema } from '../protocol/messages.ts';
import { type Streamer, StreamerConfigError } from './streamer.ts';

export function environmentVariableFor(streamer: string, key: string): string {
  return `TAP_${streamer}_${key}`.toUpperCase().replaceAll(/[^A-Z0-9]/g, '_');
}

export function configFromEnvironment(streamer: Streamer, env: NodeJS.ProcessEnv = process.env): JsonObject {
  const config: JsonObject = {};
  for (const [key, property] of Object.entries(
    (streamer.configSchema.properties ?? {}) as Record<string, JsonSchema>,
  )) {
    const name = environmentVariableFor(streamer.name, key);
    const value = env[name];
    if (value === undefined) continue;
    const types = Array.isArray(property.type) ? property.type : [property.type];
    if (types.includes('string') || property.type === undefined) {
      config[key] = value;
      continue;
    }
    try {
      config[key] = JSON.parse(value);
    } catch {
      throw new StreamerConfigError(
        `${name}: received ${JSON.stringify(value.slice(0, 40))}; expected JSON for a ${types.join(' or ')} value`,
      );
    }
  }
  return config;
}
