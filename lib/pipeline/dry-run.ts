/**
 * `trib run --dry-run`: the streamer and the steps of each tap, from its committed bookmark, with
 * nothing staged, loaded or committed and no lease taken. What each step produced is shown: the
 * properties of each stream after it, and its first records, so a pipeline can be tried before it
 * touches the warehouse.
 */
import { stringifyExact } from '../protocol/exact-json.ts';
import type { JsonObject } from '../protocol/messages.ts';
import type { StateStore } from '../state/state-store.ts';
import { resumePoint } from '../state/state-store.ts';
import { prepareSteps } from '../steps/run-steps.ts';
import type { StreamShape } from '../steps/step.ts';
import type { TapConfig } from './pipeline-config.ts';
import { streamerOf } from './streamer-of.ts';

interface Stage {
  readonly label: string;
  readonly shapes: Map<string, StreamShape>;
  readonly records: Map<string, JsonObject[]>;
}

/** Runs one tap dry and returns the text to print. `limit`: records per stream read from the streamer. */
export async function dryRunTap(
  tap: TapConfig,
  options: {
    readonly stateStore: StateStore;
    readonly limit: number;
    readonly show?: number;
    readonly log?: (line: string) => void;
  },
): Promise<string> {
  const show = options.show ?? 3;
  const stages = new Map<number, Stage>();
  const stageOf = (index: number, label: string): Stage => {
    let stage = stages.get(index);
    if (stage === undefined) {
      stage = { label, shapes: new Map(), records: new Map() };
      stages.set(index, stage);
    }
    return stage;
  };
  const bookmark = resumePoint(await options.stateStore.read(tap.name))?.bookmark;
  const log = options.log ?? (() => {});
  const prepared = await prepareSteps(tap.steps, {
    tap: tap.name,
    run: () => 'dry-run',
    log,
    watch: (index, label, output) => {
      const stage = stageOf(index, label);
      if (output.shape !== undefined) stage.shapes.set(output.stream, output.shape);
      if (output.record !== undefined) {
        const list = stage.records.get(output.stream) ?? [];
        if (list.length < show) list.push(output.record);
        stage.records.set(output.stream, list);
      }
    },
  });
  const source = streamerOf(tap).run({
    config: tap.config,
    state: bookmark,
    ...(tap.streams === undefined ? {} : { selectedStreams: tap.streams }),
    log,
  });
  const read = new Map<string, number>();
  // Stops reading a stream once `limit` of its records came through; stops all once every stream has.
  async function* limited() {
    for await (const message of source) {
      if (message.type === 'RECORD') {
        const count = (read.get(message.stream) ?? 0) + 1;
        read.set(message.stream, count);
        if (count > options.limit) continue;
      }
      yield message;
    }
  }
  let records = 0;
  for await (const message of prepared.apply(limited())) if (message.type === 'RECORD') records += 1;
  const lines = [
    `tap ${tap.name} (dry run: nothing staged, loaded or committed; up to ${options.limit} records a stream)`,
  ];
  for (const [index, stage] of [...stages].sort(([a], [b]) => a - b)) {
    lines.push(`  after ${index === -1 ? 'the streamer' : stage.label}:`);
    for (const [stream, shape] of stage.shapes) {
      const properties = Object.entries(
        (shape.schema.properties ?? {}) as Record<string, { type?: unknown; format?: unknown }>,
      )
        .map(
          ([name, property]) =>
            `${name}${shape.keyProperties.includes(name) ? '*' : ''}: ${describeType(property)}`,
        )
        .join(', ');
      lines.push(`    ${stream} (${properties})`);
      for (const record of stage.records.get(stream) ?? [])
        lines.push(`      ${stringifyExact(record).slice(0, 300)}`);
    }
  }
  const report = prepared.reports();
  if (report.length > 0)
    lines.push(
      `  steps: ${report.map((step) => `${step.label} ${step.in}→${step.out}`).join(', ')}; ${records} records would be staged`,
    );
  return lines.join('\n');
}

function describeType(property: { type?: unknown; format?: unknown }): string {
  const types = Array.isArray(property.type)
    ? property.type.filter((type) => type !== 'null')
    : [property.type ?? 'any'];
  return `${types.join('|')}${typeof property.format === 'string' ? ` (${property.format})` : ''}`;
}
