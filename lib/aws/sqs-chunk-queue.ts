/**
 * Chunks waiting for the persister, on an SQS FIFO queue: group = tap (so one tap's chunks load in
 * order), deduplication id = run:seq (so a chunk enqueued twice is delivered once). The body names
 * the chunk; it never holds the records.
 */

import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  type ChunkMessage,
  type ChunkQueue,
  deduplicationId,
  type ReceivedChunk,
} from '../queue/chunk-queue.ts';

export class SqsChunkQueue implements ChunkQueue {
  constructor(
    private readonly client: SQSClient,
    readonly queueUrl: string,
    /** Prefix of the URI in the message body, e.g. `s3://bucket/`. */
    private readonly stageUri: string,
  ) {}

  async send(message: ChunkMessage): Promise<void> {
    await this.sendWithId(message, deduplicationId(message));
  }

  /**
   * Sends a chunk again on purpose (a redrive, `trib replay`): a fresh deduplication id, so SQS does
   * not drop it as a duplicate of the first send; the persister's ledger still loads it at most once.
   */
  async replay(message: ChunkMessage): Promise<void> {
    await this.sendWithId(message, `${deduplicationId(message)}:replay:${randomUUID()}`);
  }

  /** Messages waiting (visible and in flight), e.g. of a dead-letter queue. */
  async depth(): Promise<number> {
    const result = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(result.Attributes?.ApproximateNumberOfMessages ?? 0) +
      Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
    );
  }

  private async sendWithId(message: ChunkMessage, id: string): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify({ uri: `${this.stageUri}${message.key}`, ...message }),
        MessageGroupId: message.tap,
        MessageDeduplicationId: id,
      }),
    );
  }

  async receive(maxMessages = 10): Promise<ReceivedChunk[]> {
    const result = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: Math.min(10, maxMessages),
        WaitTimeSeconds: 0,
      }),
    );
    return (result.Messages ?? []).map((message) => ({
      message: parseChunkMessage(message.Body ?? ''),
      receipt: message.ReceiptHandle ?? '',
    }));
  }

  async ack(receipt: string): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receipt }));
  }

  async release(receipt: string): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receipt,
        VisibilityTimeout: 0,
      }),
    );
  }
}

export class ChunkMessageError extends Error {
  override readonly name = 'ChunkMessageError';
}

/** Reads a queue message body back into a ChunkMessage, saying what is wrong with a bad one. */
export function parseChunkMessage(body: string): ChunkMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ChunkMessageError(`queue message is not JSON: ${body.slice(0, 80)}`);
  }
  const message = parsed as Partial<ChunkMessage>;
  if (
    typeof message.tap !== 'string' ||
    typeof message.run !== 'string' ||
    typeof message.seq !== 'number' ||
    typeof message.key !== 'string'
  ) {
    throw new ChunkMessageError(`queue message lacks tap, run, seq or key: ${body.slice(0, 120)}`);
  }
  return { records: 0, streams: [], ...message } as ChunkMessage;
}
