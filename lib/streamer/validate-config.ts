import { Ajv } from 'ajv';
import { addFastFormats } from '../persister/record-validator.ts';
import type { JsonObject } from '../protocol/messages.ts';
import { describe, isObject } from '../protocol/parser.ts';
import { type Streamer, StreamerConfigError } from './streamer.ts';

const ajv = addFastFormats(new Ajv({ strict: false, useDefaults: true, allErrors: true }));

/**
 * Checks a streamer's config before anything runs and fills in defaults. Errors name the key, what
 * was received and what is allowed.
 */
export function validateConfig(streamer: Streamer, config: unknown, source = 'config'): JsonObject {
  if (!isObject(config))
    throw new StreamerConfigError(`${source}: expected a JSON object, received ${describe(config)}`);
  const copy = structuredClone(config);
  const validate = ajv.compile(streamer.configSchema);
  if (validate(copy)) return copy;
  const problems = (validate.errors ?? []).map((error) => {
    const path = error.instancePath.slice(1).replaceAll('/', '.');
    const key =
      error.keyword === 'required'
        ? String(error.params.missingProperty)
        : error.keyword === 'additionalProperties'
          ? String(error.params.additionalProperty)
          : path;
    const received =
      error.keyword === 'required'
        ? 'nothing'
        : describe(error.keyword === 'additionalProperties' ? copy[key] : valueAt(copy, error.instancePath));
    const allowed =
      error.keyword === 'additionalProperties'
        ? `one of ${Object.keys((streamer.configSchema.properties ?? {}) as object).join(', ')}`
        : error.message;
    return `${source}: ${key || '(root)'}: received ${received}; ${error.keyword === 'additionalProperties' ? `unknown key, expected ${allowed}` : `must ${String(allowed).replace(/^must /, '')}`}`;
  });
  throw new StreamerConfigError(`streamer ${streamer.name}: invalid config\n  ${problems.join('\n  ')}`);
}

function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const part of pointer.split('/').slice(1)) current = isObject(current) ? current[part] : undefined;
  return current;
}
