import { once } from 'node:events';

/** Writes to stdout honouring back-pressure, so a slow reader never makes us buffer a whole run. */
export async function writeOut(text: string): Promise<void> {
  if (text === '') return;
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}
