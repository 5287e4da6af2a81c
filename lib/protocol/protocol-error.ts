/**
 * A message stream broke the protocol. `line` is 1-based in the input named by `source`.
 *
 * @example
 * throw new ProtocolError('RECORD for stream "orders" before its SCHEMA', { source: 'stdin', line: 3 });
 */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  readonly source: string;
  readonly line: number;

  constructor(problem: string, where: { source: string; line: number; cause?: unknown }) {
    super(
      `${where.source}: line ${where.line}: ${problem}`,
      where.cause === undefined ? {} : { cause: where.cause },
    );
    this.source = where.source;
    this.line = where.line;
  }
}
