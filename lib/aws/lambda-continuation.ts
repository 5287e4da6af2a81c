/** Hands the rest of a run to a new invocation of the same function, asynchronously. */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { ContinuationInvoker, StreamerEvent } from '../pipeline/streamer-invocation.ts';

export class LambdaContinuation implements ContinuationInvoker {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async continueWith(event: StreamerEvent): Promise<void> {
    await this.client.send(
      new InvokeCommand({
        FunctionName: this.functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
  }
}
