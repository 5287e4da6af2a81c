/**
 * A tap's `transforms:` read from the pipeline file: each entry `{ use: NAME, streams?: [glob…], …options }`
 * or the name of an entry of the top-level `components:` map. `use:` is a built-in step, a module path
 * (`./steps/geo.ts`, relative to the pipeline file) or an npm package name. Options are checked against
 * the step's own schema, and errors name the file, the tap, the step and the field.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv } from 'ajv';
import picomatch from 'picomatch';
import type { JsonObject } from '../protocol/messages.ts';
import { isObject } from '../protocol/parser.ts';
import { BUILTIN_STEPS } from './builtin-steps.ts';
import type { StepDefinition } from './step.ts';

export class StepLoadError extends Error {
  override readonly name = 'StepLoadError';
}

/** A step as the pipeline file configures it, before it is made for a run. */
export interface StepConfig {
  /** Names it in the report and in errors: `hash` or `./steps/geo.ts`, with its position. */
  readonly label: string;
  /** Where it is in the pipeline file: `pipeline.yaml: taps.crm.transforms[2]`. */
  readonly where: string;
  readonly use: string;
  /** Where its definition comes from: a built-in, or a module to import (absolute path or package). */
  readonly source: { readonly builtin: StepDefinition } | { readonly module: string };
  readonly options: JsonObject;
  /** The streams it applies to (its `streams:` globs); all when undefined. */
  readonly applies: (stream: string) => boolean;
  readonly streams?: readonly string[];
}

// All errors, so a misspelt option is named as such rather than as the required one it misses.
const ajv = new Ajv({ strict: false, allErrors: true, useDefaults: false });

export function readStepConfigs(
  file: string,
  tap: string,
  entries: readonly unknown[],
  components: Readonly<Record<string, unknown>>,
): StepConfig[] {
  return entries.map((entry, index) => {
    const where = `${file}: taps.${tap}.transforms[${index}]`;
    const resolved = typeof entry === 'string' ? components[entry] : entry;
    if (typeof entry === 'string' && resolved === undefined)
      throw new StepLoadError(
        `${where}: received ${JSON.stringify(entry)}, which is not in components:. Known components: ${Object.keys(components).join(', ') || '(none)'}.`,
      );
    if (!isObject(resolved) || typeof resolved.use !== 'string' || resolved.use === '')
      throw new StepLoadError(
        `${where}: expected { use: <step>, …options } or a component's name; received ${JSON.stringify(resolved)}`,
      );
    // `use:` may name a component too, whose options the entry's own extend.
    const base = components[resolved.use];
    const merged =
      isObject(base) && typeof base.use === 'string' ? { ...base, ...resolved, use: base.use } : resolved;
    const { use, streams: selector, ...rest } = merged as JsonObject & { use: string; streams?: unknown };
    // `streams:` is every step's selector (a list of globs), except where a step takes a map of its own
    // by that name (rename's `streams: {old: new}`).
    const ownOption = isObject(selector) && !Array.isArray(selector);
    const options: JsonObject = ownOption ? { ...rest, streams: selector } : rest;
    const streams = ownOption ? undefined : selector;
    if (
      streams !== undefined &&
      !(Array.isArray(streams) && streams.every((glob) => typeof glob === 'string' && glob !== ''))
    )
      throw new StepLoadError(
        `${where}.streams: expected a list of stream names or globs, e.g. ["issue*"]; received ${JSON.stringify(streams)}`,
      );
    const source = sourceOf(use, file, where);
    if ('builtin' in source) checkOptions(source.builtin, options, where);
    const matchers = (streams as string[] | undefined)?.map((glob) => picomatch(glob));
    return {
      label: `${use} (step ${index + 1})`,
      where,
      use,
      source,
      options,
      applies: matchers === undefined ? () => true : (stream) => matchers.some((matches) => matches(stream)),
      ...(streams === undefined ? {} : { streams: streams as string[] }),
    };
  });
}

function sourceOf(use: string, file: string, where: string): StepConfig['source'] {
  const builtin = BUILTIN_STEPS.get(use);
  if (builtin !== undefined) return { builtin };
  if (use.startsWith('.') || isAbsolute(use)) {
    const path = resolve(dirname(file), use);
    if (!existsSync(path))
      throw new StepLoadError(
        `${where}.use: ${use}: no such file (looked for ${path}). Built-in steps: ${[...BUILTIN_STEPS.keys()].join(', ')}.`,
      );
    return { module: path };
  }
  try {
    return { module: createRequire(resolve(dirname(file), 'pipeline.yaml')).resolve(use) };
  } catch {
    throw new StepLoadError(
      `${where}.use: received ${JSON.stringify(use)}, which is neither a built-in step nor an installed package. Built-in steps: ${[...BUILTIN_STEPS.keys()].join(', ')}; a module of your own: use: ./steps/name.ts; a package: npm install it first.`,
    );
  }
}

/** A step's options against its schema, with the field named. */
export function checkOptions(definition: StepDefinition, options: JsonObject, where: string): void {
  const validate = ajv.compile(definition.options);
  if (validate(options)) {
    const problem = definition.check?.(options);
    if (problem !== undefined) throw new StepLoadError(`${where} (${definition.name}): ${problem}`);
    return;
  }
  const error =
    validate.errors?.find((item) => item.keyword === 'additionalProperties') ?? validate.errors?.[0];
  const field = error?.instancePath.split('/').slice(1).join('.') ?? '';
  const detail =
    error?.keyword === 'additionalProperties'
      ? `unknown option ${String(error.params.additionalProperty)}; ${definition.name} takes ${Object.keys((definition.options.properties ?? {}) as object).join(', ')}`
      : error?.keyword === 'required'
        ? `${String(error.params.missingProperty)} is required`
        : `${field === '' ? '' : `${field}: `}${error?.message ?? 'is not valid'}`;
  throw new StepLoadError(`${where} (${definition.name}): ${detail}.`);
}
