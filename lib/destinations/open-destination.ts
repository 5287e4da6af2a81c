/**
 * Opens a destination from a pipeline's `destination:` block or a `--to` spec:
 * `duckdb:FILE` (or a path ending in .duckdb) or `postgres://user:pass@host:port/db`.
 */
import { resolve } from 'node:path';
import type { DestinationConfig, WarehouseConfig } from '../pipeline/pipeline-config.ts';
import { singerCommand } from '../singer/singer-command.ts';
import type { Destination } from './destination.ts';
import { PostgresDestination } from './postgres/postgres-destination.ts';
import { redactUrl } from './redact-url.ts';
import { SingerTargetDestination } from './singer/singer-target-destination.ts';

export class DestinationSpecError extends Error {
  override readonly name = 'DestinationSpecError';
}

export function parseDestinationSpec(spec: string): WarehouseConfig {
  if (spec.startsWith('duckdb:'))
    return { type: 'duckdb', path: spec.slice('duckdb:'.length) || 'warehouse.duckdb' };
  if (spec.endsWith('.duckdb')) return { type: 'duckdb', path: spec };
  if (/^postgres(ql)?:\/\//.test(spec)) return { type: 'postgres', url: spec };
  throw new DestinationSpecError(
    `--to: received ${JSON.stringify(redactUrl(spec))}. Allowed: duckdb:FILE (e.g. duckdb:warehouse.duckdb) or postgres://user:password@host:5432/database`,
  );
}

export async function openDestination(
  config: DestinationConfig,
  options: { readonly log?: (line: string) => void } = {},
): Promise<Destination> {
  switch (config.type) {
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
