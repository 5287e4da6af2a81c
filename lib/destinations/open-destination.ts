/**
 * Opens a destination from a pipeline's `destination:` block or a `--to` spec:
 * `duckdb:FILE` (or a path ending in .duckdb), `postgres://user:pass@host:port/db`, or `stitch`
 * (the Stitch Import API, with the token and client id from the environment, never from arguments).
 */
import { resolve } from 'node:path';
import type {
  DestinationConfig,
  StitchDestinationConfig,
  WarehouseConfig,
} from '../pipeline/pipeline-config.ts';
import { singerCommand } from '../singer/singer-command.ts';
import type { Destination } from './destination.ts';
import { PostgresDestination } from './postgres/postgres-destination.ts';
import { redactUrl } from './redact-url.ts';
import { SingerTargetDestination } from './singer/singer-target-destination.ts';
import { STITCH_BASE_URLS, StitchDestination } from './stitch/stitch-destination.ts';

export class DestinationSpecError extends Error {
  override readonly name = 'DestinationSpecError';
}

export function parseDestinationSpec(
  spec: string,
  env: NodeJS.ProcessEnv = process.env,
): WarehouseConfig | StitchDestinationConfig {
  if (spec === 'stitch' || spec.startsWith('stitch:')) return stitchFromEnvironment(spec, env);
  if (spec.startsWith('duckdb:'))
    return { type: 'duckdb', path: spec.slice('duckdb:'.length) || 'warehouse.duckdb' };
  if (spec.endsWith('.duckdb')) return { type: 'duckdb', path: spec };
  if (/^postgres(ql)?:\/\//.test(spec)) return { type: 'postgres', url: spec };
  throw new DestinationSpecError(
    `--to: received ${JSON.stringify(redactUrl(spec))}. Allowed: duckdb:FILE (e.g. duckdb:warehouse.duckdb), postgres://user:password@host:5432/database, or stitch (with STITCH_TOKEN and STITCH_CLIENT_ID set)`,
  );
}

/**
 * `stitch` or `stitch:REGION`: the Stitch Import API, as the Stitch Streams persister was run:
 * STITCH_TOKEN and STITCH_CLIENT_ID from the environment, STITCH_API_URL for another endpoint.
 */
export function stitchFromEnvironment(spec: string, env: NodeJS.ProcessEnv): StitchDestinationConfig {
  const region = spec.startsWith('stitch:') ? spec.slice('stitch:'.length) : undefined;
  if (region !== undefined && region !== 'us-east-1' && region !== 'eu-central-1')
    throw new DestinationSpecError(`--to ${spec}: the region must be us-east-1 or eu-central-1`);
  const missing = ['STITCH_TOKEN', 'STITCH_CLIENT_ID'].filter((name) => (env[name] ?? '') === '');
  if (missing.length > 0)
    throw new DestinationSpecError(
      `--to ${spec}: ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not set. Set them to the Import API token and the Stitch client (account) id, e.g. export STITCH_TOKEN=... STITCH_CLIENT_ID=...`,
    );
  return {
    type: 'stitch',
    token: env.STITCH_TOKEN as string,
    client_id: env.STITCH_CLIENT_ID as string,
    ...(region === undefined ? {} : { region }),
    ...(env.STITCH_API_URL === undefined || env.STITCH_API_URL === ''
      ? {}
      : { base_url: env.STITCH_API_URL }),
  };
}

export async function openDestination(
  config: DestinationConfig,
  options: { readonly log?: (line: string) => void } = {},
): Promise<Destination> {
  switch (config.type) {
    case 'stitch':
      return new StitchDestination({
        token: config.token,
        clientId: String(config.client_id),
        baseUrl: config.base_url ?? STITCH_BASE_URLS[config.region ?? 'us-east-1'],
        ledgerPath: resolve(config.ledger_path ?? '.tributary/delivered'),
        ...(options.log === undefined ? {} : { log: options.log }),
      });
    case 'singer':
      return new SingerTargetDestination({
        command: singerCommand(config),
        config: config.config ?? {},
        ledgerPath: resolve(config.ledger_path ?? '.tributary/delivered'),
        ...(options.log === undefined ? {} : { log: options.log }),
      });
    case 'duckdb': {
      // Loaded only when used: DuckDB is a native module that Lambda bundles leave out. The specifier is
      // computed so bundlers do not follow it (a deployed pipeline never has a DuckDB destination).
      const duckdbModule: string = './duckdb/duckdb-destination.ts';
      const { DuckDbDestination } = (await import(
        duckdbModule
      )) as typeof import('./duckdb/duckdb-destination.ts');
      return DuckDbDestination.open(config.path, {
        ...(config.memory_limit === undefined ? {} : { memoryLimit: config.memory_limit }),
        ...(config.undeclared_properties === undefined
          ? {}
          : { undeclaredProperties: config.undeclared_properties }),
      });
    }
    case 'postgres':
      return PostgresDestination.open(config.url, {
        ...(config.soft_delete === undefined ? {} : { softDelete: config.soft_delete }),
        ...(config.undeclared_properties === undefined
          ? {}
          : { undeclaredProperties: config.undeclared_properties }),
      });
  }
}
