/** The streamers `trib` knows by name. */
import type { Streamer } from '../streamer/streamer.ts';
import { chargebeeStreamer } from './chargebee/chargebee-streamer.ts';
import { driftStreamer } from './drift/drift-streamer.ts';
import { githubStreamer } from './github/github-streamer.ts';
import { ingestStreamer } from './ingest/ingest-streamer.ts';
import { pagerdutyStreamer } from './pagerduty/pagerduty-streamer.ts';
import { sampleStreamer } from './sample/sample-streamer.ts';

const STREAMERS: ReadonlyMap<string, Streamer> = new Map(
  [sampleStreamer, githubStreamer, pagerdutyStreamer, chargebeeStreamer, driftStreamer, ingestStreamer].map(
    (streamer) => [streamer.name, streamer],
  ),
);

export function allStreamers(): Streamer[] {
  return [...STREAMERS.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function streamerNames(): string[] {
  return [...STREAMERS.keys()].sort();
}

export class UnknownStreamerError extends Error {
  override readonly name = 'UnknownStreamerError';
}

export function findStreamer(name: string): Streamer {
  const streamer = STREAMERS.get(name);
  if (streamer === undefined) {
    throw new UnknownStreamerError(
      `unknown streamer ${JSON.stringify(name)}; available: ${streamerNames().join(', ')}`,
    );
  }
  return streamer;
}
