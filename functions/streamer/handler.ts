/**
 * The streamer Lambda: a schedule event `{tap}` (or its own continuation) runs one invocation of the
 * tap's sync. All logic is in lib/pipeline/streamer-invocation.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type AwsRuntime, runtimeProvider, settingsFromEnvironment } from '../../lib/aws/runtime.ts';
import {
  type InvocationResult,
  runStreamerInvocation,
  type StreamerEvent,
  TapRunError,
} from '../../lib/pipeline/streamer-invocation.ts';

export function createStreamerHandler(
  runtime: () => Promise<AwsRuntime>,
  logger = new Logger({ serviceName: 'tributary-streamer' }),
) {
  return middy(async (event: StreamerEvent, context: Context): Promise<InvocationResult> => {
    const { role, pipeline, stage, queue, stateStore, invoker } = await runtime();
    // Each tap has a function of its own, whose role reaches only that tap's secrets and chunks.
    if (role.kind === 'streamer' && event.tap !== role.tap)
      throw new TapRunError(
        `this function runs tap ${role.tap}; the event names tap ${JSON.stringify(event.tap)}. Invoke that tap's own function, <stack>-tap-<tap>.`,
      );
    return runStreamerInvocation(event, {
      pipeline,
      stage,
      queue,
      stateStore,
      invoker,
      remainingMs: () => context.getRemainingTimeInMillis(),
      log: (line, fields) => logger.info(line, fields ?? {}),
    });
  }).use(injectLambdaContext(logger));
}

let provider: (() => Promise<AwsRuntime>) | undefined;
export const handler = createStreamerHandler(() => {
  provider ??= runtimeProvider(settingsFromEnvironment());
  return provider();
});
