import type { ChunkPosition } from '../chunks/chunk-position.ts';
import { formatPosition } from '../chunks/chunk-position.ts';

/** A chunk came before the chunk it follows was loaded; it waits (DESIGN.md rule 4). */
export class ChunkGapError extends Error {
  override readonly name = 'ChunkGapError';
  constructor(
    readonly tap: string,
    readonly chunk: ChunkPosition,
    /** The predecessor not yet loaded, or null when a "first" chunk meets a ledger that has chunks. */
    readonly missing: ChunkPosition | null,
  ) {
    super(
      missing === null
        ? `tap ${tap}: chunk ${formatPosition(chunk)} says it is the tap's first chunk, but the ledger already has chunks of tap ${tap}. It was staged without knowing the tap's state (a reset state store?); it is not loaded, so nothing loads twice.`
        : `tap ${tap}: chunk ${formatPosition(chunk)} cannot load before chunk ${formatPosition(missing)}, which is not in the ledger yet. ` +
            `It will load once ${formatPosition(missing)} does; if that chunk failed, fix the cause and deliver the tap's waiting chunks again with \`trib redrive ${tap}\`.`,
    );
  }
}

/** A record broke its stream's schema; the whole chunk is refused. */
export class RecordValidationError extends Error {
  override readonly name = 'RecordValidationError';
  constructor(
    readonly source: string,
    readonly line: number,
    readonly stream: string,
    detail: string,
  ) {
    super(`${source}: line ${line}: ${detail}`);
  }
}
