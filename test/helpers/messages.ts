import { Readable } from 'node:stream';
import { isExactNumber, type Message, type ParsedMessage, parseMessages } from '../../lib/protocol/index.ts';

/** Parses a whole string (tests only: real inputs are streamed). */
export async function parseAll(text: string | Buffer, source = 'test'): Promise<ParsedMessage[]> {
  const parsed: ParsedMessage[] = [];
  for await (const message of parseMessages(Readable.from([text]), { source })) parsed.push(message);
  return parsed;
}

/** A message as plain JSON, with exact numbers shown as their digit strings (golden-file form). */
export function plain(message: Message): unknown {
  if (message.type !== 'RECORD') return message;
  const { exact, raw: _raw, ...rest } = message;
  if (exact === undefined) return rest;
  return {
    ...rest,
    record: JSON.parse(
      JSON.stringify(exact, (_key, value) => (isExactNumber(value) ? value.toString() : value)),
    ),
  };
}

export function lines(...messages: object[]): string {
  return messages.map((message) => `${JSON.stringify(message)}\n`).join('');
}
