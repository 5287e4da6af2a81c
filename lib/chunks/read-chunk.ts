import { createGunzip } from 'node:zlib';
import type { ParsedMessage } from '../protocol/messages.ts';
import { parseMessages } from '../protocol/parser.ts';
import type { Stage } from '../stage/stage.ts';

/** Streams a staged chunk's messages: gunzip and parse as the bytes arrive. */
export async function* readChunk(stage: Stage, key: string): AsyncGenerator<ParsedMessage> {
  const body = await stage.open(key);
  const gunzip = createGunzip();
  body.on('error', (error) => gunzip.destroy(error));
  yield* parseMessages(body.pipe(gunzip), { source: stage.uriOf(key) });
}
