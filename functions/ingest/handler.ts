/**
 * The ingest Lambda, behind a function URL: the Initial State Events API, staging accepted events in
 * the ingest tap's inbox before it answers 204. Keys are checked against the state table (and the
 * pipeline file's `ingest.keys`, from Secrets Manager). All logic is in lib/ingest/.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { type AwsRuntime, runtimeProvider, settingsFromEnvironment } from '../../lib/aws/runtime.ts';
import { PipelineAccessKeys } from '../../lib/ingest/access-keys.ts';
import {
  type HttpEventV2,
  type HttpResultV2,
  httpResultOf,
  ingestRequestOf,
} from '../../lib/ingest/function-url-request.ts';
import { createIngestEndpoint, type IngestEndpoint } from '../../lib/ingest/ingest-endpoint.ts';

export function createIngestHandler(
  runtime: () => Promise<AwsRuntime>,
  logger = new Logger({ serviceName: 'tributary-ingest' }),
) {
  // One endpoint per runtime: its rate-limit windows and bucket names live as long as the container.
  const endpoints = new WeakMap<AwsRuntime, IngestEndpoint>();
  const endpointOf = (current: AwsRuntime): IngestEndpoint => {
    const known = endpoints.get(current);
    if (known !== undefined) return known;
    const ingest = current.pipeline.ingest;
    if (ingest === undefined || current.role.kind !== 'ingest')
      throw new Error("this function serves the pipeline file's ingest: section, which it does not have");
    const store = current.ingestStore(ingest.tap);
    const endpoint = createIngestEndpoint({
      keys: [new PipelineAccessKeys(ingest.tap, ingest.keys), current.accessKeys],
      storeOf: (tap) => (tap === ingest.tap ? store : undefined),
      ...(ingest.requests_per_10s === undefined ? {} : { requestsPer10s: ingest.requests_per_10s }),
      log: (line) => logger.warn(line),
    });
    endpoints.set(current, endpoint);
    return endpoint;
  };
  return middy(async (event: HttpEventV2): Promise<HttpResultV2> => {
    const endpoint = endpointOf(await runtime());
    return httpResultOf(await endpoint(ingestRequestOf(event)));
  }).use(injectLambdaContext(logger));
}

let provider: (() => Promise<AwsRuntime>) | undefined;
export const handler = createIngestHandler(() => {
  provider ??= runtimeProvider(settingsFromEnvironment());
  return provider();
});
