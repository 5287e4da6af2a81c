import { Ajv, type ErrorObject } from 'ajv';
import { addFastFormats } from '../persister/record-validator.ts';
import type { JsonObject } from '../protocol/messages.ts';
import { describe, isObject } from '../protocol/parser.ts';
import { didYouMean } from '../text/did-you-mean.ts';
import { type Streamer, StreamerConfigError } from './streamer.ts';

// coerceTypes: a value from ${env:SEED} is the string "42"; the schema says integer, so it is 42.
const ajv = addFastFormats(new Ajv({ strict: false, useDefaults: true, allErrors: true, coerceTypes: true }));

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
  const problems = foldAlternatives(validate.errors ?? []).map((error) => {
    if ('alternatives' in error) return `${source}: ${alternativesProblem(error, copy)}`;
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
    // A key the config lacks, where a misspelt one is there instead: say so.
    const misspelt =
      error.keyword === 'required'
        ? Object.keys(copy).find((given) => didYouMean(given, [key]) === key && given !== key)
        : undefined;
    const hint = misspelt === undefined ? '' : ` (the config has ${misspelt}: did you mean ${key}?)`;
    return `${source}: ${key || '(root)'}: received ${received}; ${error.keyword === 'additionalProperties' ? `unknown key, expected ${allowed}` : `must ${String(allowed).replace(/^must /, '')}`}${hint}`;
  });
  // Ten say what is wrong; thousands (a generated file) would bury it.
  const shown =
    problems.length > 10 ? [...problems.slice(0, 10), `… and ${problems.length - 10} more`] : problems;
  throw new StreamerConfigError(`streamer ${streamer.name}: invalid config\n  ${shown.join('\n  ')}`);
}

interface Alternatives {
  readonly alternatives: readonly ErrorObject[];
  readonly instancePath: string;
}

/**
 * Ajv reports an anyOf/oneOf as every branch's error plus "must match a schema in anyOf"; a person
 * needs one line that names the choices instead (repositories or repository).
 */
function foldAlternatives(errors: readonly ErrorObject[]): (ErrorObject | Alternatives)[] {
  const choices = errors.filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf');
  const branchOf = (error: ErrorObject) =>
    choices.find((choice) => error !== choice && error.schemaPath.startsWith(`${choice.schemaPath}/`));
  return errors.flatMap((error): (ErrorObject | Alternatives)[] => {
    if (branchOf(error) !== undefined) return [];
    if (!choices.includes(error)) return [error];
    const alternatives = errors.filter((other) => branchOf(other) === error);
    return alternatives.length === 0 ? [error] : [{ alternatives, instancePath: error.instancePath }];
  });
}

function alternativesProblem(choice: Alternatives, config: JsonObject): string {
  const where = choice.instancePath.slice(1).replaceAll('/', '.');
  const missing = choice.alternatives.every((error) => error.keyword === 'required')
    ? choice.alternatives.map((error) => String(error.params.missingProperty))
    : undefined;
  if (missing !== undefined) {
    const prefix = where === '' ? '' : `${where}.`;
    const misspelt = Object.keys(config).find((given) => {
      const near = didYouMean(given, missing);
      return near !== undefined && near !== given;
    });
    const hint =
      misspelt === undefined
        ? ''
        : ` (the config has ${misspelt}: did you mean ${didYouMean(misspelt, missing)}?)`;
    return `${missing.map((key) => `${prefix}${key}`).join(' / ')}: received none of them; give one of ${missing.join(' or ')}${hint}`;
  }
  const forms = choice.alternatives.map((error) => {
    const at = error.instancePath.slice(1).replaceAll('/', '.');
    return `${at === '' ? '' : `${at} `}${error.message ?? 'a different value'}`;
  });
  return `${where || '(root)'}: received ${describe(valueAt(config, choice.instancePath))}; must match one of: ${forms.join('; or ')}`;
}

function valueAt(value: unknown, pointer: string): unknown {
  let current = value;
  for (const part of pointer.split('/').slice(1)) current = isObject(current) ? current[part] : undefined;
  return current;
}

/** Keys a config has that its streamer does not know (a typo is otherwise ignored), with a suggestion. */
export function unknownConfigKeys(streamer: Streamer, config: JsonObject): string[] {
  const known = Object.keys((streamer.configSchema.properties ?? {}) as object);
  if (known.length === 0) return [];
  return Object.keys(config)
    .filter((key) => !known.includes(key))
    .map((key) => {
      const suggestion = didYouMean(key, known);
      return `${key} is not a key of streamer ${streamer.name}${suggestion === undefined ? '' : `: did you mean ${suggestion}?`} It is ignored. Keys: ${known.join(', ')}.`;
    });
}
