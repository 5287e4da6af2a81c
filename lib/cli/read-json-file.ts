import { readFile } from 'node:fs/promises';
import { parseJsonExactly } from '../protocol/exact-json.ts';

export class InputFileError extends Error {
  override readonly name = 'InputFileError';
}

/**
 * Reads a JSON file named by a flag, with errors that say which flag and file. `missingIsEmpty`: a
 * file not there yet reads as empty (a first run's state file).
 */
export async function readJsonFile(path: string, flag: string, missingIsEmpty = false): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (missingIsEmpty && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputFileError(`${flag} ${path}: cannot read the file: ${(error as Error).message}`);
  }
  if (text.trim() === '') return undefined;
  try {
    return parseJsonExactly(text); // a --state bookmark keeps its 19-digit ids exact
  } catch (error) {
    throw new InputFileError(`${flag} ${path}: not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The last non-empty line of a file as JSON: a bookmark file made with `| tail -1 >`, or a persister's
 * whole output (each line a bookmark, the last one the latest).
 */
export async function readLastJsonLine(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // the first run: no bookmark yet
    throw new InputFileError(`bookmark file ${path}: cannot read the file: ${(error as Error).message}`);
  }
  const last = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .at(-1);
  if (last === undefined) return undefined;
  try {
    return parseJsonExactly(last);
  } catch (error) {
    throw new InputFileError(
      `bookmark file ${path}: its last line is not JSON (${(error as Error).message}); it should be a line the persister printed`,
    );
  }
}
