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
  const text = await readText(path, `${flag} ${path}`, missingIsEmpty);
  if (text === undefined || text.trim() === '') return undefined;
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
  const text = await readText(path, `bookmark file ${path}`, true); // not there yet: a first run
  if (text === undefined) return undefined;
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

/** A file's text; undefined when it is not there and `missingIsEmpty`, else an error naming `what`. */
async function readText(path: string, what: string, missingIsEmpty: boolean): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (missingIsEmpty && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InputFileError(`${what}: cannot read the file: ${(error as Error).message}`);
  }
}
