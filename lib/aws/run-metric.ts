/**
 * The metric a streamer function emits when a run finishes (as an embedded-metric log line), and that
 * the stack's per-tap "no successful run" alarm watches. One definition, so the two cannot drift.
 */
export const RUN_SUCCEEDED_METRIC = {
  namespace: 'Tributary',
  name: 'RunSucceeded',
  /** Powertools adds the service as a dimension; the alarm's dimensions must match exactly. */
  service: 'tributary-streamer',
  tapDimension: 'Tap',
} as const;
