/** The streamer a tap runs: a built-in one by name, or its Singer tap executable. */
import { singerTapStreamer } from '../singer/singer-tap-streamer.ts';
import type { Streamer } from '../streamer/streamer.ts';
import { findStreamer } from '../streamers/index.ts';
import type { TapConfig } from './pipeline-config.ts';

export function streamerOf(
  tap: Pick<TapConfig, 'streamer' | 'singerTap'>,
  byName: (name: string) => Streamer = findStreamer,
): Streamer {
  if (tap.singerTap === undefined) return byName(tap.streamer);
  return singerTapStreamer({
    command: tap.singerTap.command,
    ...(tap.singerTap.catalog === undefined ? {} : { catalog: tap.singerTap.catalog }),
    ...(tap.singerTap.catalogFlag === undefined ? {} : { catalogFlag: tap.singerTap.catalogFlag }),
  });
}
