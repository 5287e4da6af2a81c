/**
 * Any Singer target as the destination (`destination: { type: singer, command: target-foo }`): each
 * load transaction pipes its chunks, as Singer messages, into one run of the target, and counts as
 * committed only when the target exits 0 having printed the last chunk's STATE (targets print a STATE
 * once the records before it are written). The target has no ledger of ours, so the one that makes
 * replays load nothing twice is a file beside the state: what Tributary knows it delivered. A crash
 * between the target's exit and that file's write re-sends the chunk, and then exactly-once depends on
 * the target (an upserting target is fine; an appending one duplicates). The README says so.
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ChunkPosition } from '../../chunks/chunk-position.ts';
import { EXTRA_PROPERTY } from '../../columns/column-plan.ts';
import { canonicalJson, parseJsonExactly, stringifyExact } from '../../protocol/exact-json.ts';
import type { JsonObject } from '../../protocol/messages.ts';
import {
  exitProblem,
  type RunningCommand,
  type SingerCommand,
  startCommand,
} from '../../singer/singer-command.ts';
import { DeliveryLedger } from '../delivery-ledger.ts';
import {
  type Destination,
  DestinationLoadError,
  type LedgerEntry,
  type LoadTransaction,
  type RowToLoad,
  type StreamDefinition,
  type StreamLoadCounts,
} from '../destination.ts';

export interface SingerTargetOptions {
  readonly command: SingerCommand;
  /** The target's own config, written to a file only it and we can read. */
  readonly config: JsonObject;
  /** The folder of Tributary's delivery ledger, one file per tap. */
  readonly ledgerPath: string;
  /** Where the target's stderr lines go. */
  readonly log?: (line: string) => void;
}

export class SingerTargetDestination implements Destination {
  readonly description: string;

  constructor(private readonly options: SingerTargetOptions) {
    this.description = `Singer target \`${options.command.label}\` (delivery ledger in ${options.ledgerPath})`;
  }

  async begin(tap: string): Promise<LoadTransaction> {
    return new SingerTargetTransaction(
      tap,
      this.options,
      await DeliveryLedger.open(this.options.ledgerPath, tap),
    );
  }

  ledger(tap: string): Promise<LedgerEntry[]> {
    return DeliveryLedger.entries(this.options.ledgerPath, tap);
  }

  async close(): Promise<void> {}
}

class SingerTargetTransaction implements LoadTransaction {
  private target: { running: RunningCommand; folder: string; lastState: Promise<unknown> } | undefined;
  private position: ChunkPosition | undefined;
  /** Whether a chunk was finished, and the last bookmark one carried: what the target must confirm. */
  private delivered = false;
  private expected: unknown;
  private counts: Record<string, StreamLoadCounts> = {};
  private ended = false;

  constructor(
    readonly tap: string,
    private readonly options: SingerTargetOptions,
    private readonly ledger: DeliveryLedger,
  ) {}

  async loaded(position: ChunkPosition): Promise<{ readonly bookmark: unknown } | undefined> {
    return this.ledger.loaded(position);
  }

  async ledgerIsEmpty(): Promise<boolean> {
    return this.ledger.isEmpty();
  }

  startChunk(position: ChunkPosition): void {
    this.position = position;
    this.counts = {};
  }

  async defineStream(definition: StreamDefinition): Promise<void> {
    await this.send(
      JSON.stringify({
        type: 'SCHEMA',
        stream: definition.stream,
        schema: definition.schema,
        key_properties: definition.keyProperties,
      }),
    );
  }

  async write(stream: string, row: RowToLoad): Promise<void> {
    // The tap's own line when it says exactly what is loaded; else the checked values, without the
    // warehouse's column of undeclared properties (they are in the record itself).
    let line = row.raw?.text;
    if (line === undefined) {
      const { [EXTRA_PROPERTY]: _extra, ...record } = row.values;
      line = stringifyExact({
        type: 'RECORD',
        stream,
        record,
        ...(row.version === undefined ? {} : { version: row.version }),
      });
    }
    await this.send(line);
    const counts = this.counts[stream] ?? { inserted: 0, updated: 0, deleted: 0 };
    counts.inserted += 1;
    this.counts[stream] = counts;
  }

  async activateVersion(stream: string, version: number): Promise<void> {
    await this.send(JSON.stringify({ type: 'ACTIVATE_VERSION', stream, version }));
  }

  async finishChunk(chunk: { readonly bookmark: unknown; readonly records: number }) {
    if (this.position === undefined) throw new Error('finishChunk before startChunk');
    if (chunk.bookmark !== undefined)
      await this.send(stringifyExact({ type: 'STATE', value: chunk.bookmark }));
    const counts = this.counts;
    // Saved to the delivery ledger at commit, once the target has confirmed the chunks' last STATE.
    this.ledger.add(this.position, { bookmark: chunk.bookmark, records: chunk.records, counts });
    this.delivered = true;
    if (chunk.bookmark !== undefined) this.expected = chunk.bookmark;
    return counts;
  }

  async commit(): Promise<void> {
    try {
      if (this.target !== undefined) await this.finishTarget(this.target);
      if (this.delivered) await this.ledger.save();
    } finally {
      await this.end();
    }
  }

  async rollback(): Promise<void> {
    try {
      await this.target?.running.stop();
    } finally {
      await this.end();
    }
  }

  private async finishTarget(target: NonNullable<SingerTargetTransaction['target']>): Promise<void> {
    const stdin = target.running.child.stdin;
    stdin?.end();
    const status = await target.running.exited;
    const confirmed = await target.lastState;
    const problem = exitProblem(status, target.running.lastErrorLines());
    if (problem !== undefined)
      throw new DestinationLoadError(
        `Singer target ${this.options.command.label} ${problem}. Nothing is recorded as delivered; the chunks are loaded again on the next try (what the target wrote before it failed is its own).`,
      );
    const expected = this.expected;
    if (expected === undefined) return;
    if (confirmed === undefined || canonicalJson(confirmed) !== canonicalJson(expected))
      throw new DestinationLoadError(
        `Singer target ${this.options.command.label} exited 0 but ${confirmed === undefined ? 'printed no STATE' : `printed ${stringifyExact(confirmed).slice(0, 200)} as its last STATE`}; it should print the last STATE it was sent (${stringifyExact(expected).slice(0, 200)}) once the records before it are written. The chunks are not recorded as delivered.`,
      );
  }

  private async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      if (this.target !== undefined) await rm(this.target.folder, { recursive: true, force: true });
    } finally {
      await this.ledger.close();
    }
  }

  /** Writes one message line to the target, waiting while its stdin is full (memory stays bounded). */
  private async send(line: string): Promise<void> {
    const target = this.target ?? (await this.startTarget());
    const stdin = target.running.child.stdin;
    if (stdin === null || stdin.destroyed) return; // it exited; commit() reports why
    if (!stdin.write(`${line}\n`)) await Promise.race([once(stdin, 'drain'), target.running.exited]);
  }

  private async startTarget(): Promise<NonNullable<SingerTargetTransaction['target']>> {
    const folder = await mkdtemp(join(tmpdir(), 'tributary-target-'));
    const config = join(folder, 'config.json');
    await writeFile(config, JSON.stringify(this.options.config), { mode: 0o600 });
    const running = startCommand(this.options.command, ['--config', config], {
      stdin: 'pipe',
      ...(this.options.log === undefined ? {} : { log: this.options.log }),
    });
    // A target that dies mid-write closes its stdin; the exit code, not EPIPE, says what happened.
    running.child.stdin?.on('error', () => {});
    const lastState = readLastState(running, this.options.log);
    this.target = { running, folder, lastState };
    return this.target;
  }
}

/**
 * The last STATE value a target prints on stdout (one JSON value a line; other lines are logged), or
 * undefined when it printed none.
 */
async function readLastState(running: RunningCommand, log?: (line: string) => void): Promise<unknown> {
  let last: unknown;
  const stdout = running.child.stdout;
  if (stdout === null) return last;
  for await (const line of createInterface({ input: stdout, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line.trim() === '') continue;
    try {
      last = parseJsonExactly(line);
    } catch {
      log?.(`target stdout: ${line}`);
    }
  }
  return last;
}
