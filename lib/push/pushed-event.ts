import type { EventValue } from './event-rules.ts';

/** One event as the client holds, sends and spools it. */
export interface PushedEvent {
  /** Client-generated (UUID v7), so the server drops a batch sent twice. */
  readonly id: string;
  readonly bucketKey: string;
  readonly bucketName: string;
  readonly key: string;
  readonly value: EventValue;
  /** Unix seconds, fractional. */
  readonly epoch: number;
}
