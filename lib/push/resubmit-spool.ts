/**
 * `trib push resubmit DIR`: sends a spool's batches again, oldest first, deleting each once the
 * endpoint accepted it. The events keep the ids they got at `log()`, so a batch that had reached the
 * endpoint after all loads once. Stops at the first batch the endpoint does not take.
 */
import { EventSpool } from './event-spool.ts';
import type { PushSender, SendOutcome } from './push-sender.ts';
import type { PushedEvent } from './pushed-event.ts';

export interface ResubmitResult {
  readonly files: number;
  readonly events: number;
  /** Files still waiting, and why the first of them did not go. */
  readonly left: number;
  readonly stoppedBy?: Exclude<SendOutcome, { status: 'sent' }>;
}

export async function resubmitSpool(folder: string, sender: PushSender): Promise<ResubmitResult> {
  const spool = new EventSpool(folder);
  const files = await spool.files();
  let sent = 0;
  let events = 0;
  const created = new Set<string>();
  for (const file of files) {
    const batch = await spool.read(file);
    // A batch file holds one bucket's events (the client cuts batches per bucket); split anyway.
    const byBucket = new Map<string, PushedEvent[]>();
    for (const event of batch.events) {
      const events = byBucket.get(event.bucketKey);
      if (events === undefined) byBucket.set(event.bucketKey, [event]);
      else events.push(event);
    }
    for (const [bucketKey, bucketEvents] of byBucket) {
      if (!created.has(bucketKey)) {
        const outcome = await sender.createBucket(bucketKey, bucketEvents[0]?.bucketName ?? bucketKey);
        if (outcome.status !== 'sent')
          return { files: sent, events, left: files.length - sent, stoppedBy: outcome };
        created.add(bucketKey);
      }
      const outcome = await sender.send(bucketKey, bucketEvents);
      if (outcome.status !== 'sent')
        return { files: sent, events, left: files.length - sent, stoppedBy: outcome };
    }
    await spool.remove(file);
    sent += 1;
    events += batch.events.length;
  }
  return { files: sent, events, left: 0 };
}
