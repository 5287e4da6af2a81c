/**
 * The property test's queue on the fauxqs emulator: a FIFO chunk queue whose redrive policy moves a
 * message to a FIFO dead-letter queue after five receives, driven as Lambda's SQS event source drives
 * the persister (receive a batch, delete what succeeded, make the failures visible again).
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SqsChunkQueue } from '../../lib/aws/sqs-chunk-queue.ts';
import type { ChunkMessage, ChunkQueue, ReceivedChunk } from '../../lib/queue/chunk-queue.ts';
import { InjectedFault } from '../../lib/testing/faulty-destination.ts';
import type { QueueModel } from './queue-model.ts';

export class SqsQueueModel implements QueueModel {
  private readonly main: SqsChunkQueue;
  private readonly dead: SqsChunkQueue;
  /** Bodies of messages handled and deleted, for redeliveries. */
  private readonly delivered: { body: string; tap: string }[] = [];
  private readonly failSends = new Set<number>();
  private sends = 0;

  private constructor(
    private readonly sqs: SQSClient,
    private readonly mainUrl: string,
    deadUrl: string,
    stageUri: string,
  ) {
    this.main = new SqsChunkQueue(sqs, mainUrl, stageUri);
    this.dead = new SqsChunkQueue(sqs, deadUrl, stageUri);
  }

  static async create(sqs: SQSClient, stageUri: string): Promise<SqsQueueModel> {
    const id = randomUUID().slice(0, 8);
    const dead = await sqs.send(
      new CreateQueueCommand({ QueueName: `prop-dead-${id}.fifo`, Attributes: { FifoQueue: 'true' } }),
    );
    const deadArn = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dead.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    const main = await sqs.send(
      new CreateQueueCommand({
        QueueName: `prop-chunks-${id}.fifo`,
        Attributes: {
          FifoQueue: 'true',
          VisibilityTimeout: '60',
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: deadArn.Attributes?.QueueArn,
            maxReceiveCount: 5,
          }),
        },
      }),
    );
    return new SqsQueueModel(sqs, main.QueueUrl ?? '', dead.QueueUrl ?? '', stageUri);
  }

  private countSend(): void {
    this.sends += 1;
    if (this.failSends.delete(this.sends)) throw new InjectedFault('injected fault: SQS SendMessage failed');
  }

  async send(message: ChunkMessage): Promise<void> {
    this.countSend();
    await this.main.send(message);
  }

  async replay(message: ChunkMessage): Promise<void> {
    this.countSend();
    await this.main.replay(message);
  }

  receive(maxMessages?: number): Promise<ReceivedChunk[]> {
    return this.main.receive(maxMessages);
  }
  ack(receipt: string): Promise<void> {
    return this.main.ack(receipt);
  }
  release(receipt: string): Promise<void> {
    return this.main.release(receipt);
  }

  armSend(nth: number): void {
    this.failSends.add(this.sends + nth);
  }

  disarmSends(): void {
    this.failSends.clear();
  }

  async deliver(
    batchSize: number,
    handle: (messages: { messageId: string; body: string }[]) => Promise<Set<string>>,
  ): Promise<void> {
    const received = await this.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: this.mainUrl, MaxNumberOfMessages: Math.min(10, batchSize) }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return;
    const failed = await handle(
      messages.map((message) => ({ messageId: message.MessageId ?? '', body: message.Body ?? '' })),
    );
    for (const message of messages) {
      if (failed.has(message.MessageId ?? '')) {
        await this.sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.mainUrl,
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          }),
        );
      } else {
        await this.sqs.send(
          new DeleteMessageCommand({ QueueUrl: this.mainUrl, ReceiptHandle: message.ReceiptHandle }),
        );
        this.delivered.push({ body: message.Body ?? '', tap: JSON.parse(message.Body ?? '{}').tap ?? '' });
      }
    }
  }

  async redeliver(pick: number): Promise<void> {
    const message = this.delivered[pick % Math.max(1, this.delivered.length)];
    if (message === undefined) return;
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.mainUrl,
        MessageBody: message.body,
        MessageGroupId: message.tap,
        MessageDeduplicationId: `redelivery-${randomUUID()}`,
      }),
    );
  }

  deadLetterQueue(): ChunkQueue {
    return this.dead;
  }

  async counts(): Promise<{ waiting: number; deadLetters: number }> {
    return { waiting: await this.main.depth(), deadLetters: await this.dead.depth() };
  }
}
