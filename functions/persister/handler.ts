/**
 * The persister Lambda: SQS FIFO event source, each message a staged chunk. Reports partial batch
 * failures so SQS retries only what failed. All logic is in lib/persister/persist-queue-batch.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type AwsRuntime, runtimeProvider, settingsFromEnvironment } from '../../lib/aws/runtime.ts';
import { persistBatch } from '../../lib/persister/persist-queue-batch.ts';

export function createPersisterHandler(
  runtime: () => Promise<AwsRuntime>,
  logger = new Logger({ serviceName: 'tributary-persister' }),
) {
  return middy(async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const { stage, stateStore, parseMessage, destination } = await runtime();
    const result = await persistBatch(event.Records, {
      stage,
      stateStore,
      destination: await destination(),
      parse: parseMessage,
      log: (line, fields) => logger.info(line, fields ?? {}),
    });
    return { batchItemFailures: result.batchItemFailures };
  }).use(injectLambdaContext(logger));
}

let provider: (() => Promise<AwsRuntime>) | undefined;
export const handler = createPersisterHandler(() => {
  provider ??= runtimeProvider(settingsFromEnvironment());
  return provider();
});
