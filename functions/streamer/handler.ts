/**
 * The streamer Lambda: a schedule event `{tap}` (or its own continuation) runs one invocation of the
 * tap's sync. All logic is in lib/pipeline/streamer-invocation.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { RUN_SUCCEEDED_METRIC } from '../../lib/aws/run-metric.ts';
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
  metrics = new Metrics({
    namespace: RUN_SUCCEEDED_METRIC.namespace,
    serviceName: RUN_SUCCEEDED_METRIC.service,
  }),
) {
  return middy(async (event: StreamerEvent, context: Context): Promise<InvocationResult> => {
    const { role, pipeline, stage, queue, stateStore, invoker, secretStore, ingestStore } = await runtime();
    // Each tap has a function of its own, whose role reaches only that tap's secrets and chunks.
    if (role.kind === 'streamer' && event.tap !== role.tap)
      throw new TapRunError(
        `this function runs tap ${role.tap}; the event names tap ${JSON.stringify(event.tap)}. Invoke that tap's own function, <stack>-tap-<tap>.`,
      );
    const result = await runStreamerInvocation(event, {
      pipeline,
      stage,
      queue,
      stateStore,
      invoker,
      secretStore,
      inboxOf: (tap) => ingestStore(tap).inbox,
      remainingMs: () => context.getRemainingTimeInMillis(),
      log: (line, fields) => logger.info(line, fields ?? {}),
    });
    if (result.status === 'finished') {
      // An embedded-metric log line: CloudWatch turns it into the metric, with no call and no IAM grant.
      metrics.addDimension(RUN_SUCCEEDED_METRIC.tapDimension, result.tap);
      metrics.addMetric(RUN_SUCCEEDED_METRIC.name, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    }
    return result;
  }).use(injectLambdaContext(logger));
}

let provider: (() => Promise<AwsRuntime>) | undefined;
export const handler = createStreamerHandler(() => {
  provider ??= runtimeProvider(settingsFromEnvironment());
  return provider();
});
