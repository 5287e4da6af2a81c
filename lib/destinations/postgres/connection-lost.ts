/**
 * Whether a PostgreSQL client error means the connection is gone (the load must be retried from its
 * start on a new one) rather than the server refusing a statement: SQLSTATE class 08 (connection
 * exception), 57P (operator intervention: shutdown, terminated backend), and Node's network errors
 * (EPIPE, ECONNRESET…, met by a COPY still writing when the server ends the connection) or none at
 * all ("Connection terminated unexpectedly"). No SQLSTATE class starts with E.
 */
export function connectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') return true;
  return code.startsWith('08') || code.startsWith('57P') || /^E[A-Z]+$/.test(code);
}
