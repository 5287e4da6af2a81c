/**
 * Runs a streamer for a held run and stages its output: messages → chunk writer → the run
 * protocol's stage/record/send sink (run-protocol.ts). Shared by `trib run` and the Lambda streamer.
 */
import type { ChunkMetadata } from '../chunks/chunk-metadata.ts';
import { type ChunkLimits, ChunkWriter, type ClosedChunk } from '../chunks/chunk-writer.ts';
import { RecordChecks, type StreamRecordCheck } from '../persister/record-check.ts';
import type { Message } from '../protocol/messages.ts';
import { type HeldRun, type RunPorts, stageChunks, UnloadableChunkError } from './run-protocol.ts';

export interface StageRunOptions {
  readonly run: HeldRun;
  readonly ports: RunPorts;
  readonly messages: AsyncIterable<Message>;
  readonly limits?: ChunkLimits;
  readonly onRecord?: (stream: string) => void;
  readonly onChunk?: (chunk: ClosedChunk, metadata: ChunkMetadata) => void;
  /** Checked at each STATE; when it returns true the run stops there. */
  readonly shouldStop?: () => boolean;
}

export interface StagedRun {
  /** The seq the next chunk of this run would take. */
  readonly nextSeq: number;
  readonly stopped: boolean;
}

/**
 * The streamer (or the record check) failed: what was read up to its last STATE is staged before the
 * error goes on, so a failing stream does not throw away what the others read.
 */
export class SourceFailedError extends Error {
  override readonly name = 'SourceFailedError';
  constructor(
    override readonly cause: unknown,
    /** The seq the next chunk of this run would take, after the chunks staged before the failure. */
    readonly nextSeq: number,
  ) {
    super((cause as Error).message, { cause });
  }
}

/**
 * The persister's own record check, run here too, so a record that could never load is never
 * staged; compiled once per schema for the process, not once per run (a Lambda runs many).
 */
const checks = new RecordChecks();

export async function stageRun(options: StageRunOptions): Promise<StagedRun> {
  const writer = new ChunkWriter(stageChunks(options.run, options.ports, options.onChunk), {
    ...options.limits,
    firstSeq: options.run.resume.nextSeq,
    startBookmark: options.run.resume.bookmark,
  });
  const streams = new Map<string, StreamRecordCheck>();
  let records = 0;
  const source = options.messages[Symbol.asyncIterator]();
  let sourceEnded = false;
  try {
    for (;;) {
      let next: IteratorResult<Message>;
      let problem: Error | undefined;
      try {
        next = await source.next();
      } catch (error) {
        // Only a failure of the source is staged up to its last STATE; a failed put or a lost lease is not.
        throw new SourceFailedError(error, await writer.endAtLastState());
      }
      if (next.done === true) {
        sourceEnded = true;
        break;
      }
      const message = next.value;
      if (message.type === 'SCHEMA') streams.set(message.stream, checks.forSchema(message));
      if (message.type === 'RECORD') {
        records += 1;
        const checked = streams.get(message.stream)?.check(message.record, message.exact);
        if (checked !== undefined && !checked.ok)
          problem = new UnloadableChunkError(
            `record ${records} of this run: ${checked.problem}. It is not staged, since it could never load; the run stops before it and what was staged before it loads. Fix the value at the source or the stream's schema, and the next run goes on from there.`,
          );
      }
      if (problem !== undefined) throw new SourceFailedError(problem, await writer.endAtLastState());
      await writer.write(message);
      if (message.type === 'RECORD') options.onRecord?.(message.stream);
      if (message.type === 'STATE' && options.shouldStop?.() === true)
        return { nextSeq: await writer.end(), stopped: true };
    }
    sourceEnded = true;
    return { nextSeq: await writer.end(), stopped: false };
  } finally {
    // Whatever ends the run early (a stop at a STATE, a record that can never load, a failed put, a
    // lost lease), the source is closed: a tap's process must stop with it.
    if (!sourceEnded) await source.return?.();
  }
}
