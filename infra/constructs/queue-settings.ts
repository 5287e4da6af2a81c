/**
 * The chunk queue's delivery settings, derived from one another as AWS asks for Lambda consumers:
 * - visibility timeout six times the persister's timeout, so a message is not handed to a second
 *   persister while the first may still be loading it (and batches retried by Lambda have room);
 * - concurrency limited on the event source (`maxConcurrency`), not by reserved concurrency: a
 *   throttled function makes the event source count failed receives, pushing healthy chunks into the
 *   dead-letter queue after `maxReceiveCount` throttles.
 */
import { Duration } from 'aws-cdk-lib';

export interface QueueSettingsInput {
  readonly persisterTimeout: Duration;
  readonly maxReceiveCount: number;
  readonly persisterConcurrency: number;
}

export interface QueueSettings {
  readonly visibilityTimeout: Duration;
  readonly retention: Duration;
  readonly maxReceiveCount: number;
  readonly maxConcurrency: number;
}

/** AWS: "at least six times the timeout that you configure on your function". */
export const VISIBILITY_PER_TIMEOUT = 6;
/** SQS allows 2 to 1,000 concurrent invocations per event source. */
const CONCURRENCY = { min: 2, max: 1000 } as const;
/** SQS caps a visibility timeout at 12 hours. */
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

export function queueSettings(input: QueueSettingsInput): QueueSettings {
  const { persisterTimeout, maxReceiveCount, persisterConcurrency } = input;
  if (
    !Number.isInteger(persisterConcurrency) ||
    persisterConcurrency < CONCURRENCY.min ||
    persisterConcurrency > CONCURRENCY.max
  )
    throw new Error(
      `persisterConcurrency: received ${persisterConcurrency}. Allowed: a whole number from ${CONCURRENCY.min} to ${CONCURRENCY.max} (the SQS event source's maxConcurrency).`,
    );
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000)
    throw new Error(`maxReceiveCount: received ${maxReceiveCount}. Allowed: a whole number from 1 to 1000.`);
  const visibility = persisterTimeout.toSeconds() * VISIBILITY_PER_TIMEOUT;
  if (visibility > MAX_VISIBILITY_SECONDS)
    throw new Error(
      `a persister timeout of ${persisterTimeout.toSeconds()} s needs a ${visibility} s visibility timeout; SQS allows ${MAX_VISIBILITY_SECONDS} s.`,
    );
  return {
    visibilityTimeout: Duration.seconds(visibility),
    retention: Duration.days(14),
    maxReceiveCount,
    maxConcurrency: persisterConcurrency,
  };
}
