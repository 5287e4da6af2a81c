/**
 * Tributary inside your own application: load a pipeline file, run a tap once, write steps.
 *
 * @example
 * import { FileStateStore, FolderStage, loadPipeline, openDestination, runTap } from 'tributary';
 *
 * const pipeline = await loadPipeline('pipeline.yaml');
 * const destination = await openDestination(pipeline.destination);
 * try {
 *   for (const tap of pipeline.taps.values()) {
 *     const report = await runTap(tap, {
 *       stage: new FolderStage(pipeline.stagePath),
 *       stateStore: new FileStateStore(pipeline.statePath),
 *       destination,
 *     });
 *     console.log(tap.name, report.status, report.error ?? '');
 *   }
 * } finally {
 *   await destination.close();
 * }
 *
 * @example
 * // steps/tag.ts, named in a tap's transforms as { use: ./steps/tag.ts, label: vip }
 * import { defineStep } from 'tributary';
 * export default defineStep<{ label: string }>({
 *   name: 'tag',
 *   kind: 'transformer',
 *   description: 'Adds a label to every record.',
 *   options: { type: 'object', required: ['label'], properties: { label: { type: 'string' } } },
 *   create: ({ label }) => ({ record: (_stream, record) => ({ ...record, label }) }),
 * });
 */
export { openDestination } from './destinations/open-destination.ts';
export { createIngestEndpoint, type IngestEndpoint } from './ingest/ingest-endpoint.ts';
export { startIngestServer } from './ingest/ingest-http-server.ts';
export { loadPipeline, parsePipeline } from './pipeline/load-pipeline.ts';
export type { PipelineConfig, TapConfig } from './pipeline/pipeline-config.ts';
export type { TapReport } from './pipeline/run-report.ts';
export { runTap, type TapRunContext } from './pipeline/run-tap.ts';
export {
  type CloseResult,
  EventStreamer,
  EventStreamerClosedError,
  type EventStreamerOptions,
  EventValueError,
  type PushTotals,
} from './push/event-streamer.ts';
export { FolderStage } from './stage/folder-stage.ts';
export { FileStateStore } from './state/file-state-store.ts';
export {
  defineStep,
  type StepContext,
  type StepDefinition,
  type StepInstance,
  type StreamShape,
} from './steps/step.ts';
export { defineStream } from './streamer/define-stream.ts';
export { defineStreamer } from './streamer/define-streamer.ts';
