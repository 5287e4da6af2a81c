/**
 * A destination that can be told to fail (as dlt's), to prove what happens when loading breaks.
 * Wraps a real destination; `failAt` names the step that throws, once, as a crash there would.
 */
import type { ChunkPosition } from '../chunks/chunk-position.ts';
import type { Destination, LoadTransaction } from '../destinations/destination.ts';

export type DestinationFault =
  /** after the rows and ledger row are written, before COMMIT: the transaction is lost */
  | 'before-commit'
  /** COMMIT went through, then the process died before hearing so */
  | 'after-commit'
  /** while rows are being written */
  | 'mid-load';

export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
}

export class FaultyDestination implements Destination {
  readonly description: string;
  private armed: DestinationFault | undefined;
  private writesBeforeFault = 0;
  /** Transactions still to fail before COMMIT: an outage (a revoked grant, a full disk) until fixed. */
  private outage = 0;

  constructor(private readonly inner: Destination) {
    this.description = `faulty(${inner.description})`;
  }

  /** The next transaction fails at `fault` (for mid-load, after `afterWrites` rows). */
  failNext(fault: DestinationFault, afterWrites = 1): void {
    this.armed = fault;
    this.writesBeforeFault = afterWrites;
  }

  /** The next `transactions` transactions all fail before COMMIT. */
  failFor(transactions: number): void {
    this.outage = transactions;
  }

  /** Ends armed faults; an outage under way runs its course unless `outageToo`. */
  disarm(outageToo = true): void {
    this.armed = undefined;
    if (outageToo) this.outage = 0;
  }

  async begin(tap: string): Promise<LoadTransaction> {
    const inner = await this.inner.begin(tap);
    let fault = this.armed;
    this.armed = undefined;
    if (fault === undefined && this.outage > 0) {
      this.outage -= 1;
      fault = 'before-commit';
    }
    let writes = 0;
    const limit = this.writesBeforeFault;
    return {
      loaded: (position: ChunkPosition) => inner.loaded(position),
      ledgerIsEmpty: () => inner.ledgerIsEmpty(),
      startChunk: (position) => inner.startChunk(position),
      defineStream: (definition) => inner.defineStream(definition),
      write: async (stream, row) => {
        writes += 1;
        if (fault === 'mid-load' && writes > limit)
          throw new InjectedFault(`injected fault: crash while writing row ${writes}`);
        await inner.write(stream, row);
      },
      activateVersion: (stream, version) => inner.activateVersion(stream, version),
      finishChunk: (chunk) => inner.finishChunk(chunk),
      commit: async () => {
        if (fault === 'before-commit') throw new InjectedFault('injected fault: crash before COMMIT');
        await inner.commit();
        if (fault === 'after-commit') throw new InjectedFault('injected fault: crash after COMMIT');
      },
      rollback: () => inner.rollback(),
    };
  }

  ledger(tap: string) {
    return this.inner.ledger(tap);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
