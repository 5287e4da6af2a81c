/**
 * Reads a pipeline file: YAML, `${env:NAME}` (and locally `${secret:NAME}`, read from the
 * environment too) substituted in every string, then checked against the pipeline schema.
 * Errors name the file, the path in it, what was received and what is allowed.
 *
 * @example
 * const pipeline = await loadPipeline('pipeline.yaml');
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { sanitizeIdentifier } from '../columns/identifiers.ts';
import type { JsonObject } from '../protocol/messages.ts';
import { describe, isObject } from '../protocol/parser.ts';
import { singerCommand } from '../singer/singer-command.ts';
import { importStep } from '../steps/run-steps.ts';
import { readStepConfigs, type StepConfig, StepLoadError } from '../steps/step-config.ts';
import { parseDuration } from '../streamer/define-stream.ts';
import { type Streamer, StreamerConfigError } from '../streamer/streamer.ts';
import { unknownConfigKeys, validateConfig } from '../streamer/validate-config.ts';
import { findStreamer, streamerNames } from '../streamers/index.ts';
import type {
  AlertsConfig,
  DestinationConfig,
  IngestConfig,
  PipelineConfig,
  TapConfig,
} from './pipeline-config.ts';
import { ALLOWED_HINTS, pipelineSchema } from './pipeline-schema.ts';
import { REFERENCE } from './references.ts';
import { checkTimezone, parseSchedule } from './schedule.ts';

/** Catalogs every DuckDB session has: a tap schema of the same name would be ambiguous. */
const DUCKDB_CATALOGS = ['memory', 'system', 'temp'];

export class PipelineConfigError extends Error {
  override readonly name = 'PipelineConfigError';
}

const validatePipeline = new Ajv({ strict: false, allErrors: false }).compile(pipelineSchema);

export interface LoadPipelineOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Values for `${secret:NAME}` (from Secrets Manager in AWS); locally they come from the environment. */
  readonly secrets?: Readonly<Record<string, string>>;
}

export async function loadPipeline(file: string, options: LoadPipelineOptions = {}): Promise<PipelineConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new PipelineConfigError(
        `${file}: no such pipeline file here (${process.cwd()}). Give the pipeline file, e.g. examples/pipeline.yaml, or --pipeline FILE where the command takes it; trib init writes a new one.`,
        { cause: error },
      );
    throw new PipelineConfigError(`${file}: cannot read the pipeline file: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const pipeline = parsePipeline(text, file, options);
  // A step module of the user's is loaded now, so a missing export or a wrong option is named at load.
  for (const tap of pipeline.taps.values())
    for (const step of tap.steps)
      if (!('builtin' in step.source))
        try {
          await importStep(step);
        } catch (error) {
          if (error instanceof StepLoadError) throw new PipelineConfigError(error.message, { cause: error });
          throw error;
        }
  return pipeline;
}

export function parsePipeline(text: string, file: string, options: LoadPipelineOptions = {}): PipelineConfig {
  const document = readYaml(text, file);
  const substituted = substitute(document, [], file, options.env ?? process.env, options.secrets);
  if (!validatePipeline(substituted)) {
    throw new PipelineConfigError(explain(file, substituted, validatePipeline.errors?.[0]));
  }
  const raw = substituted as {
    destination: DestinationConfig;
    stage?: { path?: string; keep?: string };
    state?: { path?: string };
    alerts?: AlertsConfig;
    ingest?: { tap?: string; keys?: string[]; requests_per_10s?: number; schedule?: string };
    components?: Record<string, JsonObject>;
    taps?: Record<
      string,
      Omit<TapConfig, 'name' | 'steps' | 'config' | 'streamer' | 'singerTap'> & {
        streamer: string | JsonObject;
        config?: JsonObject;
        transforms?: unknown[];
      }
    >;
  };
  const rawTaps = raw.taps ?? {};
  const ingest = ingestOf(file, { ...raw, taps: rawTaps });
  if (Object.keys(rawTaps).length === 0)
    throw new PipelineConfigError(
      `${file}: taps: none given.\n  Allowed: at least one tap (or an ingest: section), e.g.\n  taps:\n    demo: { streamer: sample }`,
    );
  const taps = new Map<string, TapConfig>();
  const warnings: string[] = [];
  // Each tap's tables live in a schema named after it: two names that sanitize alike would share one,
  // and one tap's ACTIVATE_VERSION would delete the other's rows.
  const schemas = new Map<string, string>();
  for (const name of Object.keys(rawTaps)) {
    const schema = sanitizeIdentifier(name);
    if (DUCKDB_CATALOGS.includes(schema))
      throw new PipelineConfigError(
        `${file}: taps.${name}: DuckDB keeps a catalog of its own named "${schema}", and the tap's schema would be ambiguous with it.\n  Allowed: any other name, e.g. ${name}_data.`,
      );
    const other = schemas.get(schema);
    if (other !== undefined)
      throw new PipelineConfigError(
        `${file}: taps.${name}: its tables would go in schema "${schema}", as those of tap ${other} do.\n  Allowed: tap names that differ after - and _ are made alike; rename one of them.`,
      );
    schemas.set(schema, name);
  }
  for (const [name, entry] of Object.entries(rawTaps)) {
    const tap = { ...entry, ...withStreamer(file, name, entry) };
    // A Singer tap's streams are checked against its --discover catalog when it runs.
    const builtin = tap.singerTap === undefined ? findStreamer(tap.streamer) : undefined;
    if (builtin !== undefined) {
      const known = new Set(builtin.streams.map((stream) => stream.name));
      for (const stream of tap.streams ?? []) {
        if (!known.has(stream)) {
          throw new PipelineConfigError(
            `${file}: taps.${name}.streams: received ${JSON.stringify(stream)}, which streamer ${tap.streamer} does not have.\n  Allowed: ${[...known].join(', ')}.`,
          );
        }
      }
    }
    checkScheduleOf(file, name, tap);
    // The config is checked now, for every command alike; `${secret:…}` not yet resolved is left for
    // later (the deploy plan checks it with placeholders of its own).
    const checkable = builtin !== undefined && !holdsPlaceholder(tap.config);
    const config = checkable ? checkedConfig(file, name, builtin, tap.config) : tap.config;
    if (checkable)
      warnings.push(
        ...unknownConfigKeys(builtin, config).map((line) => `${file}: taps.${name}.config.${line}`),
      );
    let steps: StepConfig[];
    try {
      steps = readStepConfigs(file, name, tap.transforms ?? [], raw.components ?? {});
    } catch (error) {
      if (error instanceof StepLoadError) throw new PipelineConfigError(error.message);
      throw error;
    }
    const { transforms: _transforms, ...rest } = tap;
    taps.set(name, { ...rest, config, name, steps });
  }
  const destination =
    raw.destination.type === 'duckdb'
      ? { ...raw.destination, path: resolve(raw.destination.path) }
      : raw.destination.type === 'singer' || raw.destination.type === 'stitch'
        ? { ...raw.destination, ledger_path: resolve(raw.destination.ledger_path ?? '.tributary/delivered') }
        : raw.destination;
  return {
    file,
    destination,
    stagePath: resolve(raw.stage?.path ?? '.tributary'),
    stageKeepMs: parseDuration(raw.stage?.keep ?? '3d'),
    statePath: resolve(raw.state?.path ?? '.tributary/state'),
    taps,
    ...(raw.alerts === undefined ? {} : { alerts: raw.alerts }),
    ...(ingest === undefined ? {} : { ingest }),
    warnings,
  };
}

/**
 * The `ingest:` section, with its tap: one declared in `taps:` must use the ingest streamer; a tap not
 * declared is added (streamer ingest, loaded every 5 minutes in AWS), so `ingest: {}` is enough.
 */
function ingestOf(
  file: string,
  raw: {
    ingest?: { tap?: string; keys?: string[]; requests_per_10s?: number; schedule?: string };
    taps: Record<string, { streamer: string | JsonObject; schedule?: string }>;
  },
): IngestConfig | undefined {
  if (raw.ingest === undefined) {
    const stray = Object.entries(raw.taps).find(([, tap]) => tap.streamer === 'ingest');
    if (stray !== undefined)
      throw new PipelineConfigError(
        `${file}: taps.${stray[0]}.streamer: ingest reads what the push endpoint accepts, and this file has no ingest: section.\n  Add: ingest: { tap: ${stray[0]} }`,
      );
    return undefined;
  }
  const tap = raw.ingest.tap ?? 'events';
  const declared = raw.taps[tap];
  if (declared === undefined)
    raw.taps[tap] = { streamer: 'ingest', schedule: raw.ingest.schedule ?? 'rate(5 minutes)' };
  else if (declared.streamer !== 'ingest')
    throw new PipelineConfigError(
      `${file}: ingest.tap: received ${JSON.stringify(tap)}, a tap whose streamer is not ingest.\n  Allowed: the name of a tap with streamer: ingest, or a name no tap has (it is added).`,
    );
  else if (raw.ingest.schedule !== undefined && declared.schedule === undefined)
    declared.schedule = raw.ingest.schedule;
  return {
    tap,
    keys: raw.ingest.keys ?? [],
    ...(raw.ingest.requests_per_10s === undefined ? {} : { requests_per_10s: raw.ingest.requests_per_10s }),
  };
}

function holdsPlaceholder(config: JsonObject): boolean {
  return JSON.stringify(config).includes('${secret:');
}

/** A tap's schedule and timezone, each error naming the field it is about. */
function checkScheduleOf(
  file: string,
  name: string,
  tap: { readonly schedule?: string; readonly timezone?: string },
) {
  const check = (field: string, work: () => void) => {
    try {
      work();
    } catch (error) {
      throw new PipelineConfigError(`${file}: taps.${name}.${field}: ${(error as Error).message}`);
    }
  };
  if (tap.timezone !== undefined) check('timezone', () => checkTimezone(tap.timezone ?? 'UTC'));
  if (tap.schedule !== undefined) check('schedule', () => parseSchedule(tap.schedule ?? '', tap.timezone));
}

/** A built-in streamer's config, checked and with its defaults, or an error naming the file and tap. */
export function checkedConfig(
  file: string,
  name: string,
  streamer: Streamer,
  config: JsonObject,
): JsonObject {
  try {
    return validateConfig(streamer, config, `taps.${name}.config`);
  } catch (error) {
    if (error instanceof StreamerConfigError)
      throw new PipelineConfigError(
        `${file}: ${error.message.replace(/^streamer \S+: invalid config\n\s*/, '')}`,
      );
    throw error;
  }
}

const SINGER_TAP_KEYS = ['command', 'executable', 'args', 'config', 'catalog', 'catalog_flag'];

/**
 * A tap's streamer: a built-in one by name, or a Singer tap executable, whose `config` may sit in the
 * `streamer:` block (as Meltano writes it) or beside it, not both.
 */
function withStreamer(
  file: string,
  name: string,
  tap: { readonly streamer: string | JsonObject; readonly config?: JsonObject },
): Pick<TapConfig, 'streamer' | 'config' | 'singerTap'> {
  const where = `${file}: taps.${name}.streamer`;
  if (typeof tap.streamer === 'string') {
    try {
      findStreamer(tap.streamer);
    } catch {
      throw new PipelineConfigError(
        `${where}: received ${JSON.stringify(tap.streamer)}.\n  Allowed: ${streamerNames().join(', ')}, or { command: <a Singer tap> }.`,
      );
    }
    return { streamer: tap.streamer, config: tap.config ?? {} };
  }
  const spec = tap.streamer;
  const problem = singerTapProblem(spec, name, tap.config !== undefined);
  if (problem !== undefined) throw new PipelineConfigError(`${where}: ${problem}.`);
  const command = singerCommand({
    ...(typeof spec.command === 'string' ? { command: spec.command } : {}),
    ...(typeof spec.executable === 'string' ? { executable: spec.executable } : {}),
    ...(Array.isArray(spec.args) ? { args: spec.args as string[] } : {}),
  });
  return {
    streamer: command.label,
    config: (spec.config as JsonObject | undefined) ?? tap.config ?? {},
    singerTap: {
      command,
      ...(typeof spec.catalog === 'string' ? { catalog: resolve(spec.catalog) } : {}),
      ...(spec.catalog_flag === '--properties' || spec.catalog_flag === '--catalog'
        ? { catalogFlag: spec.catalog_flag }
        : {}),
    },
  };
}

function singerTapProblem(spec: JsonObject, tap: string, configBeside: boolean): string | undefined {
  const unknown = Object.keys(spec).filter((key) => !SINGER_TAP_KEYS.includes(key));
  if (unknown.length > 0) return `unknown key ${unknown[0]}; known keys: ${SINGER_TAP_KEYS.join(', ')}`;
  if ((typeof spec.command === 'string') === (typeof spec.executable === 'string'))
    return 'give a Singer tap as command: "tap-foo --its-flags" or as executable: tap-foo with args: [...], one of the two';
  if (spec.command === '' || spec.executable === '') return 'the command is empty';
  if (
    spec.args !== undefined &&
    !(Array.isArray(spec.args) && spec.args.every((arg) => typeof arg === 'string'))
  )
    return 'args must be a list of strings';
  if (spec.config !== undefined && !isObject(spec.config))
    return "config must be a map of the tap's settings";
  if (spec.config !== undefined && configBeside)
    return `config is given twice, in taps.${tap}.streamer and in taps.${tap}; keep one`;
  if (spec.catalog !== undefined && typeof spec.catalog !== 'string')
    return 'catalog must be the path of a catalog file';
  if (
    spec.catalog_flag !== undefined &&
    spec.catalog_flag !== '--catalog' &&
    spec.catalog_flag !== '--properties'
  )
    return 'catalog_flag must be --catalog or --properties';
  return undefined;
}

function substitute(
  value: unknown,
  path: string[],
  file: string,
  env: NodeJS.ProcessEnv,
  secrets?: Readonly<Record<string, string>>,
): unknown {
  if (typeof value === 'string') {
    return value.replaceAll(REFERENCE, (_match, _kind: string, name: string) => {
      const found = _kind === 'secret' && secrets !== undefined ? secrets[name] : env[name];
      if (found === undefined) {
        throw new PipelineConfigError(
          `${file}: ${path.join('.')}: \${${_kind}:${name}} is not set. Set the environment variable ${name} (e.g. export ${name}=...) and run again.`,
        );
      }
      return found;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => substitute(item, [...path, String(index)], file, env, secrets));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substitute(item, [...path, key], file, env, secrets)]),
    );
  }
  return value;
}

function explain(file: string, document: unknown, error: ErrorObject | undefined): string {
  if (error === undefined) return `${file}: does not match the pipeline format`;
  const parts = error.instancePath.split('/').slice(1);
  let where = parts.join('.');
  let received: unknown = parts.reduce<unknown>(
    (value, part) => (Array.isArray(value) ? value[Number(part)] : isObject(value) ? value[part] : undefined),
    document,
  );
  let allowed = error.message ?? 'a different value';
  if (error.keyword === 'required') {
    where = [...parts, String(error.params.missingProperty)].join('.');
    received = undefined;
    allowed = 'a value (it is required)';
  } else if (error.keyword === 'additionalProperties') {
    where = [...parts, String(error.params.additionalProperty)].join('.');
    received = String(error.params.additionalProperty);
    allowed = `no such key here; known keys: ${Object.keys(schemaAt(parts)).join(', ')}`;
  } else if (error.propertyName !== undefined) {
    // a key of a map (a tap name) broke its pattern
    received = error.propertyName;
    allowed = ALLOWED_HINTS[parts.at(-1) ?? ''] ?? allowed;
  } else if (error.keyword === 'type' && parts.length === 1 && parts[0] === 'taps') {
    // A list of taps is the natural first guess; the file keys them by name.
    allowed = 'a map of tap name to its settings, not a list, e.g.\n  taps:\n    demo: { streamer: sample }';
  } else if (error.keyword === 'pattern' || error.keyword === 'enum') {
    // An item of a list is hinted by the list's name (alerts.emails.0 → emails).
    const named = /^\d+$/.test(parts.at(-1) ?? '') ? parts.at(-2) : parts.at(-1);
    allowed = ALLOWED_HINTS[named ?? ''] ?? allowed;
  }
  return `${file}: ${where || '(top level)'}: received ${describe(received)}.\n  Allowed: ${allowed}.`;
}

function schemaAt(parts: string[]): Record<string, unknown> {
  if (parts.length === 0) return pipelineSchema.properties;
  if (parts[0] === 'taps' && parts.length === 2)
    return pipelineSchema.properties.taps.additionalProperties.properties;
  if (parts[0] === 'destination') return { type: 0, path: 0, url: 0, memory_limit: 0, soft_delete: 0 };
  if (parts[0] === 'alerts') return { emails: 0, topic_arn: 0, no_success_after: 0 };
  if (parts[0] === 'ingest') return { tap: 0, keys: 0, requests_per_10s: 0, schedule: 0 };
  return {};
}

/**
 * The YAML document as plain values. The yaml package's own duplicate-key check compares each key
 * with every earlier one (a 50,000-key map took 53 s); this one keeps a set per map, so a file loads
 * in time linear in its size, and a key given twice is still refused, with its line.
 */
function readYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { uniqueKeys: false, lineCounter });
  const [error] = document.errors;
  if (error !== undefined)
    throw new PipelineConfigError(`${file}: not valid YAML: ${error.message}`, { cause: error });
  visit(document, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? pair.key.value : String(pair.key);
        if (seen.has(key)) {
          const offset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
          const at = offset === undefined ? undefined : lineCounter.linePos(offset);
          throw new PipelineConfigError(
            `${file}${at === undefined ? '' : `:${at.line}`}: the key ${JSON.stringify(key)} is given twice in one map.\n  Allowed: each key once; remove or rename one of them.`,
          );
        }
        seen.add(key);
      }
    },
  });
  return document.toJS();
}
