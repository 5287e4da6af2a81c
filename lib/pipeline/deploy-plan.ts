/**
 * What `cdk deploy` needs from a pipeline file, checked at synth so a bad file fails before anything
 * is created: every tap's streamer exists, its schedule parses, its config passes the streamer's
 * schema (with `${secret:…}` and `${env:…}` standing in for their values), secrets are referenced and
 * never written in the file, and the destination is one a Lambda can reach (not a local DuckDB file).
 */

import { parse as parseYaml } from 'yaml';
import { secretsInUrl } from '../destinations/redact-url.ts';
import type { JsonObject, JsonSchema } from '../protocol/messages.ts';
import { BUILTIN_STEPS } from '../steps/builtin-steps.ts';
import { secretValues } from '../streamer/redact.ts';
import { findStreamer, streamerNames } from '../streamers/index.ts';
import { checkedConfig, PipelineConfigError, parsePipeline } from './load-pipeline.ts';
import type { PipelineConfig } from './pipeline-config.ts';
import { referencedNames } from './references.ts';
import { longestInterval, parseSchedule } from './schedule.ts';

export interface DeployTap {
  readonly name: string;
  readonly schedule: string;
  readonly timezone?: string;
  /** The longest gap between two scheduled runs (for the "no successful run" alarm). */
  readonly intervalMs: number;
  /** Secrets Manager names the streamer must read. */
  readonly secrets: readonly string[];
  /** Secrets the streamer rewrites (a rotating OAuth refresh token): read and written, nothing else. */
  readonly writableSecrets: readonly string[];
  /** The ingest tap: its streamer reads and clears `inbox/<tap>/` in the stage bucket. */
  readonly readsInbox: boolean;
}

/** The push endpoint (`ingest:`): a function behind a URL, staging into one tap's inbox. */
export interface DeployIngest {
  readonly tap: string;
  /** Secrets Manager names of the access keys the pipeline file lists (`ingest.keys`). */
  readonly secrets: readonly string[];
  /** Requests per access key per 10 s, per function instance. */
  readonly requestsPer10s?: number;
}

export interface DeployPlan {
  readonly taps: readonly DeployTap[];
  readonly ingest?: DeployIngest;
  /** Secrets Manager names the persister must read (destination credentials). */
  readonly destinationSecrets: readonly string[];
  /** `${env:NAME}` references, whose synth-time values the functions get as environment variables. */
  readonly environment: Readonly<Record<string, string>>;
  readonly alerts: {
    readonly emails: readonly string[];
    readonly topicArn?: string;
    /** Schedule intervals without a successful run before a tap alarms. */
    readonly noSuccessAfter: number;
  };
}

export function planDeployment(text: string, file: string, env: NodeJS.ProcessEnv = process.env): DeployPlan {
  const secretNames = referencedNames(text, 'secret');
  const envNames = referencedNames(text, 'env');
  const environment: Record<string, string> = {};
  for (const name of envNames) {
    const value = env[name];
    if (value === undefined)
      throw new PipelineConfigError(
        `${file}: \${env:${name}} is not set at synth. Set it, or keep secret values in Secrets Manager and write \${secret:NAME}.`,
      );
    environment[name] = value;
  }
  // Secrets stand for themselves here: the functions read the real values at run time.
  const placeholders = Object.fromEntries(secretNames.map((name) => [name, `\${secret:${name}}`]));
  const pipeline = parsePipeline(text, file, { env, secrets: placeholders });
  if (pipeline.destination.type === 'stitch') {
    throw new PipelineConfigError(
      `${file}: destination.type: received "stitch". Allowed in AWS: postgres (the Stitch destination keeps which chunks Stitch accepted in a local file, which a Lambda function would lose). Use \`trib run\` or \`trib schedule\` for Stitch.`,
    );
  }
  if (pipeline.destination.type === 'singer') {
    throw new PipelineConfigError(
      `${file}: destination.type: received "singer". Allowed in AWS: postgres (a Lambda function runs no programs but its own bundle). Use \`trib run\` for a Singer target.`,
    );
  }
  if (pipeline.destination.type === 'duckdb') {
    throw new PipelineConfigError(
      `${file}: destination.type: received "duckdb". Allowed in AWS: postgres (a DuckDB file would live in a Lambda's temporary disk and vanish). Use \`trib run\` for DuckDB.`,
    );
  }
  const taps: DeployTap[] = [];
  for (const tap of pipeline.taps.values()) {
    if (tap.schedule === undefined) {
      throw new PipelineConfigError(
        `${file}: taps.${tap.name}.schedule: received nothing.\n  Allowed: rate(<n> minute[s]|hour[s]|day[s]) or cron(<6 fields>), e.g. rate(1 hour).`,
      );
    }
    // parsePipeline checked the schedule and timezone already.
    if (tap.singerTap !== undefined)
      throw new PipelineConfigError(
        `${file}: taps.${tap.name}.streamer: a Singer tap executable (${tap.streamer}) cannot be deployed: a Lambda function runs no programs but its own bundle. Run this tap with \`trib run\` or \`trib schedule\` on a machine, or use a built-in streamer (${streamerNames().join(', ')}).`,
      );
    const streamer = findStreamer(tap.streamer);
    const custom = tap.steps.find((step) => !('builtin' in step.source));
    if (custom !== undefined)
      throw new PipelineConfigError(
        `${file}: taps.${tap.name}.transforms: ${custom.label} is a module of your own, which the Lambda bundle does not hold. In AWS use the built-in steps (${[...BUILTIN_STEPS.keys()].join(', ')}), or run this tap with \`trib run\` or \`trib schedule\`.`,
      );
    checkedConfig(file, tap.name, streamer, tap.config); // with placeholders for its secrets
    for (const value of secretValues(tap.config, streamer.configSchema)) {
      if (!value.startsWith('${secret:')) {
        const key = Object.entries(tap.config).find(([, v]) => v === value)?.[0] ?? '?';
        throw new PipelineConfigError(
          `${file}: taps.${tap.name}.config.${key}: a secret written in the pipeline file. Store it in Secrets Manager and write \${secret:NAME}.`,
        );
      }
    }
    taps.push({
      name: tap.name,
      schedule: tap.schedule,
      intervalMs: longestInterval(parseSchedule(tap.schedule, tap.timezone)),
      ...(tap.timezone === undefined ? {} : { timezone: tap.timezone }),
      secrets: referencedNames(JSON.stringify(tap.config), 'secret'),
      writableSecrets: writableSecretsOf(tap.config, streamer.configSchema),
      readsInbox: pipeline.ingest?.tap === tap.name,
    });
  }
  const destinationSecrets = referencedNames(JSON.stringify(pipeline.destination), 'secret');
  if (pipeline.destination.type === 'postgres') refuseSecretsInUrl(file, text, pipeline.destination.url);
  const alerts = {
    emails: pipeline.alerts?.emails ?? [],
    ...(pipeline.alerts?.topic_arn === undefined ? {} : { topicArn: pipeline.alerts.topic_arn }),
    noSuccessAfter: pipeline.alerts?.no_success_after ?? 3,
  };
  const ingest = pipeline.ingest === undefined ? undefined : ingestPlan(file, pipeline.ingest);
  return { taps, ...(ingest === undefined ? {} : { ingest }), destinationSecrets, environment, alerts };
}

/** Keys listed in the file must be `${secret:…}` references: a plain key would sit in the bundle. */
function ingestPlan(file: string, ingest: NonNullable<PipelineConfig['ingest']>): DeployIngest {
  for (const [index, key] of ingest.keys.entries())
    if (!SECRET_PLACEHOLDER.test(key))
      throw new PipelineConfigError(
        `${file}: ingest.keys.${index}: an access key written in the pipeline file. Store it in Secrets Manager and write \${secret:NAME}, or create keys with trib ingest keys create --aws.`,
      );
  return {
    tap: ingest.tap,
    secrets: referencedNames(JSON.stringify(ingest.keys), 'secret'),
    ...(ingest.requests_per_10s === undefined ? {} : { requestsPer10s: ingest.requests_per_10s }),
  };
}

const SECRET_PLACEHOLDER = /^\$\{secret:[^}]+\}$/;

/**
 * A destination URL reaches the template in plain text unless each secret part of it (password,
 * `?password=`, `?sslkey=`, `?token=`…) is a `${secret:…}` reference: written in the file it lands in the
 * function bundle, and through `${env:…}` in the functions' environment in the template.
 */
function refuseSecretsInUrl(file: string, text: string, url: string): void {
  const leaked = secretsInUrl(url).filter((secret) => !SECRET_PLACEHOLDER.test(secret.value));
  if (leaked.length === 0) return;
  const written = (parseYaml(text) as { destination?: { url?: unknown } } | null)?.destination?.url;
  const envNames = referencedNames(String(written ?? ''), 'env');
  const origin =
    envNames.length === 0
      ? 'written in the pipeline file, it would be copied into the function bundle'
      : `from ${envNames.map((name) => `\${env:${name}}`).join(', ')}, it would be stored in the CloudFormation template`;
  throw new PipelineConfigError(
    `${file}: destination.url: the ${leaked.map((secret) => secret.part).join(' and the ')} of the URL is a secret in plain text (${origin}).\n  Store the whole URL in Secrets Manager and write url: "\${secret:NAME}", or write each secret part as \${secret:NAME}.`,
  );
}

/** The config values that name a secret the streamer rewrites (`writable_secret: true` in its schema). */
function writableSecretsOf(config: JsonObject, schema: JsonSchema): string[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  return Object.entries(properties)
    .filter(([key, property]) => property.writable_secret === true && typeof config[key] === 'string')
    .map(([key]) => String(config[key]));
}
