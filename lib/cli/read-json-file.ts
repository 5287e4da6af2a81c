import { readFile } from 'node:fs/promises';
import { parseJsonExactly } from '../protocol/exact-json.ts';

export class InputFileError extends Error {
  override readonly name = 'InputFileError';
}

/** Reads a JSON file named by a flag, with errors that say which flag and file. */
export async function readJsonFile(path: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputFileError(`${flag} ${path}: cannot read the file: ${(error as Error).message}`);
  }
  if (text.trim() === '') return undefined;
  try {
    return parseJsonExactly(text); // a --state bookmark keeps its 19-digit ids exact
  } catch (error) {
    throw new InputFileError(`${flag} ${path}: not valid JSON: ${(error as Error).message}`);
  }
}
