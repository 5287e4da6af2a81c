/**
 * `trib ingest serve|keys`: the push endpoint locally, and its access keys. `serve` stages accepted
 * events into the ingest tap's inbox under the local stage and loads them as they accumulate, with
 * the same run protocol as `trib run` (so a `trib run` at the same time skips the tap, not its data).
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { openDestination } from '../../destinations/open-destination.ts';
import { type AccessKeyStore, type ManagedAccessKeys, PipelineAccessKeys } from '../../ingest/access-keys.ts';
import { FileAccessKeys } from '../../ingest/file-access-keys.ts';
import { folderIngestStore } from '../../ingest/folder-inbox.ts';
import { createIngestEndpoint } from '../../ingest/ingest-endpoint.ts';
import { startIngestServer } from '../../ingest/ingest-http-server.ts';
import { loadPipeline } from '../../pipeline/load-pipeline.ts';
import type { IngestConfig, PipelineConfig, TapConfig } from '../../pipeline/pipeline-config.ts';
import { formatRunReport } from '../../pipeline/run-report.ts';
import { runTap } from '../../pipeline/run-tap.ts';
import { FolderStage } from '../../stage/folder-stage.ts';
import { FileStateStore } from '../../state/file-state-store.ts';
import { loadAwsClients } from '../aws-clients.ts';
import { onStopRequest } from '../stop-requests.ts';
import { positiveInteger } from './persist.ts';

export function ingestCommand(): Command {
  return new Command('ingest')
    .description('Receive pushed events (the Initial State Events API) into an ingest tap')
    .addCommand(serveCommand())
    .addCommand(keysCommand());
}

/** The pipeline's ingest section, or an error that says how to add one. */
function ingestOf(pipeline: PipelineConfig): IngestConfig & { readonly tapConfig: TapConfig } {
  const ingest = pipeline.ingest;
  if (ingest === undefined)
    throw new Error(
      `${pipeline.file}: no ingest: section. Add one, e.g.\n  ingest: { tap: events, keys: ["\${env:INGEST_KEY}"] }`,
    );
  return { ...ingest, tapConfig: pipeline.taps.get(ingest.tap) as TapConfig };
}

export function keyFileOf(pipeline: PipelineConfig): string {
  return join(pipeline.statePath, 'ingest-keys.json');
}

function serveCommand(): Command {
  return new Command('serve')
    .description(
      'Serve the ingest endpoint locally and load what it accepts into the warehouse as it accumulates (Ctrl-C stops, after a last load).',
    )
    .argument('<pipeline>', 'pipeline YAML file with an ingest: section')
    .option('--port <n>', 'port to listen on (default: any free one)', (value) =>
      positiveInteger(value, '--port'),
    )
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--load-every <seconds>',
      'how often accepted events are loaded',
      (value) => positiveInteger(value, '--load-every'),
      5,
    )
    .action(async (file: string, options: { port?: number; host: string; loadEvery: number }) => {
      const pipeline = await loadPipeline(file);
      for (const warning of pipeline.warnings ?? []) process.stderr.write(`warning: ${warning}\n`);
      const ingest = ingestOf(pipeline);
      await new FolderStage(pipeline.stagePath).checkWritable();
      const store = folderIngestStore(pipeline.stagePath, ingest.tap);
      const keys: AccessKeyStore[] = [
        new PipelineAccessKeys(ingest.tap, ingest.keys),
        new FileAccessKeys(keyFileOf(pipeline)),
      ];
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const endpoint = createIngestEndpoint({
        keys,
        storeOf: (tap) => (tap === ingest.tap ? store : undefined),
        ...(ingest.requests_per_10s === undefined ? {} : { requestsPer10s: ingest.requests_per_10s }),
        log,
      });
      const server = await startIngestServer(endpoint, {
        ...(options.port === undefined ? {} : { port: options.port }),
        host: options.host,
        log,
      });
      process.stdout.write(`listening on ${server.url}\n`);
      process.stdout.write(
        `  push with X-IS-AccessKey; events go to tap ${ingest.tap}, loaded every ${options.loadEvery} s\n`,
      );
      let stopping = false;
      const stopWatching = onStopRequest((why) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`trib ingest serve: stopping (${why}); loading what was accepted first\n`);
      });
      const load = async () => {
        if ((await store.inbox.list()).length === 0) return;
        // Opened per load: DuckDB allows one process to write, and `trib query` may want to read.
        const destination = await openDestination(pipeline.destination, { log });
        try {
          const report = await runTap(ingest.tapConfig, {
            stage: new FolderStage(pipeline.stagePath),
            stateStore: new FileStateStore(pipeline.statePath),
            destination,
            log: (line) => {
              if (!line.startsWith('METRIC: ')) log(line);
            },
          });
          const loaded = [...report.streams.values()].reduce((sum, stream) => sum + stream.recordsRead, 0);
          if (loaded > 0 || report.status !== 'succeeded')
            process.stdout.write(`${formatRunReport([report])}\n`);
        } finally {
          await destination.close();
        }
      };
      try {
        while (!stopping) {
          await sleepUnless(options.loadEvery * 1000, () => stopping);
          await load().catch((error: unknown) =>
            log(`ingest load failed: ${(error as Error).message}; trying again`),
          );
        }
      } finally {
        stopWatching();
        await server.close();
        // The settle time passes before the last load, so what was accepted last is loaded too.
        await new Promise((resolve) => setTimeout(resolve, store.inbox.settleMs + 100));
        await load();
      }
    });
}

interface KeyStoreOptions {
  readonly aws?: boolean;
  readonly table?: string;
}

/** The keys a command manages: the local file, or with --aws the deployed stack's state table. */
async function managedKeys(pipeline: PipelineConfig, options: KeyStoreOptions): Promise<ManagedAccessKeys> {
  if (options.aws !== true) return new FileAccessKeys(keyFileOf(pipeline));
  if (options.table === undefined) throw new Error('--aws needs --table (the stack output StateTableName)');
  return (await loadAwsClients()).awsAccessKeys(options.table);
}

function keysCommand(): Command {
  const pipelineArgument = (command: Command) =>
    command
      .argument('<pipeline>', 'pipeline YAML file with an ingest: section')
      .option('--aws', "the deployed stack's keys, in its state table")
      .option('--table <name>', 'with --aws: the state table (stack output StateTableName)');
  return new Command('keys')
    .description(
      'Manage ingest access keys, stored hashed: in <state>/ingest-keys.json, or with --aws in the state table',
    )
    .addCommand(
      pipelineArgument(new Command('create'))
        .description('Create an access key for the ingest tap; it is shown once')
        .option('--label <text>', 'what the key is for (shown by list)')
        .action(async (file: string, options: { label?: string } & KeyStoreOptions) => {
          const pipeline = await loadPipeline(file);
          const ingest = ingestOf(pipeline);
          const { plain, key } = await (await managedKeys(pipeline, options)).create(
            ingest.tap,
            options.label,
          );
          process.stdout.write(`${plain}\n`);
          process.stderr.write(
            `key ${key.id} created for tap ${ingest.tap}. It is shown only now: keep it in your client's secret store.\nSend it as the X-IS-AccessKey header (ISStreamer: access_key=...).\n`,
          );
        }),
    )
    .addCommand(
      pipelineArgument(new Command('list'))
        .description('List access keys (ids, never the keys)')
        .action(async (file: string, options: KeyStoreOptions) => {
          const pipeline = await loadPipeline(file);
          const keys = await (await managedKeys(pipeline, options)).list();
          const fromFile = pipeline.ingest?.keys.length ?? 0;
          if (keys.length === 0 && fromFile === 0) {
            process.stdout.write(`no keys yet; create one: trib ingest keys create ${file}\n`);
            return;
          }
          for (const key of keys)
            process.stdout.write(
              `${key.id}  tap ${key.tap}  created ${key.createdAt}${key.revokedAt === undefined ? '' : `  revoked ${key.revokedAt}`}${key.label === undefined ? '' : `  ${key.label}`}\n`,
            );
          if (fromFile > 0)
            process.stdout.write(`(and ${fromFile} key(s) listed in ${file} under ingest.keys)\n`);
        }),
    )
    .addCommand(
      pipelineArgument(new Command('revoke'))
        .description('Revoke an access key by its id; its requests are refused with 403 from now on')
        .argument('<id>', 'the key id, as list shows it')
        .action(async (file: string, id: string, options: KeyStoreOptions) => {
          const pipeline = await loadPipeline(file);
          const result = await (await managedKeys(pipeline, options)).revoke(id);
          if (result.status === 'not-found')
            throw new Error(`no key with id ${JSON.stringify(id)}; see: trib ingest keys list ${file}`);
          process.stdout.write(
            result.status === 'revoked'
              ? `key ${id} revoked\n`
              : `key ${id} was already revoked (${result.key.revokedAt})\n`,
          );
        }),
    );
}

async function sleepUnless(ms: number, stop: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !stop())
    await new Promise((resolve) => setTimeout(resolve, Math.min(200, until - Date.now())));
}
