import type { JsonObject } from '../protocol/messages.ts';
import type { SingerCommand } from '../singer/singer-command.ts';
import type { StepConfig } from '../steps/step-config.ts';

/** A warehouse Tributary writes itself (with its ledger in it). */
export type WarehouseConfig =
  | {
      readonly type: 'duckdb';
      readonly path: string;
      readonly memory_limit?: string;
      readonly undeclared_properties?: 'keep' | 'drop';
    }
  | {
      readonly type: 'postgres';
      readonly url: string;
      readonly soft_delete?: boolean;
      readonly undeclared_properties?: 'keep' | 'drop';
    };

export type DestinationConfig = WarehouseConfig | SingerDestinationConfig | StitchDestinationConfig;

/** The Stitch Import API (`destination: { type: stitch, token: ..., client_id: ... }`). */
export interface StitchDestinationConfig {
  readonly type: 'stitch';
  readonly token: string;
  readonly client_id: string | number;
  /** us-east-1 (default) or eu-central-1. */
  readonly region?: 'us-east-1' | 'eu-central-1';
  /** Another endpoint: a proxy, a test fake. Overrides `region`. */
  readonly base_url?: string;
  /** Tributary's record of the chunks Stitch accepted. @default .tributary/delivered */
  readonly ledger_path?: string;
}

/** Any Singer target (`destination: { type: singer, command: target-foo }`). */
export interface SingerDestinationConfig {
  readonly type: 'singer';
  readonly command?: string;
  readonly executable?: string;
  readonly args?: readonly string[];
  readonly config?: JsonObject;
  /** Tributary's record of the chunks the target confirmed. @default .tributary/delivered */
  readonly ledger_path?: string;
}

export interface TransformConfig {
  readonly use: string;
  readonly [option: string]: unknown;
}

/** A Singer tap executable run as the streamer (`streamer: { command: ... }`). */
export interface SingerTapConfig {
  readonly command: SingerCommand;
  readonly catalog?: string;
  readonly catalogFlag?: '--catalog' | '--properties';
}

export interface TapConfig {
  readonly name: string;
  /** A built-in streamer's name, or for a Singer tap its command line (what messages call it). */
  readonly streamer: string;
  /** Set when the streamer is a Singer tap executable rather than a built-in one. */
  readonly singerTap?: SingerTapConfig;
  readonly schedule?: string;
  /** IANA time zone for cron schedules, e.g. Europe/Berlin. @default UTC */
  readonly timezone?: string;
  readonly config: JsonObject;
  /** Selected streams; undefined means all. */
  readonly streams?: readonly string[];
  /** The tap's steps, between its streamer and its chunks (its `transforms:`), in order. */
  readonly steps: readonly StepConfig[];
  readonly chunk?: { readonly max_records?: number; readonly max_bytes?: number };
}

/** A tap's chunk limits from its `chunk:` block, in the chunk writer's terms. */
export function chunkLimitsOf(tap: TapConfig): { maxRecords?: number; maxBytes?: number } {
  return {
    ...(tap.chunk?.max_records === undefined ? {} : { maxRecords: tap.chunk.max_records }),
    ...(tap.chunk?.max_bytes === undefined ? {} : { maxBytes: tap.chunk.max_bytes }),
  };
}

export interface PipelineConfig {
  /** The file it was read from, for messages. */
  readonly file: string;
  readonly destination: DestinationConfig;
  /** Local stage folder (chunks) and state folder (bookmarks). */
  readonly stagePath: string;
  /** How long a loaded chunk stays in the local stage (`stage.keep`). @default 3 days */
  readonly stageKeepMs?: number;
  readonly statePath: string;
  readonly taps: ReadonlyMap<string, TapConfig>;
  /** Who hears of a dead-lettered chunk or a tap with no successful run (in AWS). */
  readonly alerts?: AlertsConfig;
  /** The push endpoint (`ingest:`), when the file has one. */
  readonly ingest?: IngestConfig;
  /** What the file has that is likely a mistake but does not stop it (an unknown config key). */
  readonly warnings?: readonly string[];
}

/** `ingest:`: the Initial State–compatible endpoint and the tap its events are staged as. */
export interface IngestConfig {
  /** The ingest tap (declared in `taps:` with `streamer: ingest`, or added). @default events */
  readonly tap: string;
  /** Access keys the pipeline file itself allows (local development); others come from `trib ingest keys`. */
  readonly keys: readonly string[];
  /** Requests per access key per 10 s before 429. @default 300 */
  readonly requests_per_10s?: number;
}

export interface AlertsConfig {
  /** Subscribed to the stack's alerts topic (each confirms by e-mail once). */
  readonly emails?: readonly string[];
  /** An existing SNS topic the alarms notify too (chat, paging). */
  readonly topic_arn?: string;
  /** A tap with no successful run for this many of its schedule intervals alarms. @default 3 */
  readonly no_success_after?: number;
}
