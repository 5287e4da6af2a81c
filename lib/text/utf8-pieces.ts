/**
 * Text and bytes gathered as UTF-8 into pieces of a fixed size, off V8's heap, each handed on once
 * full: for writers that give a stream or gzip large pieces rather than a string or a Buffer per
 * line (the DuckDB batch files, the chunk writer's held-back lines). A part larger than a piece is
 * handed on by itself, in its place.
 */
export class Utf8Pieces {
  private piece: Buffer;
  private used = 0;

  constructor(
    private readonly pieceBytes: number,
    /** Takes each piece, in order; the piece is never written to again. */
    private readonly onPiece: (piece: Buffer) => void,
  ) {
    this.piece = Buffer.allocUnsafe(pieceBytes);
  }

  add(part: string | Buffer): void {
    // A string's UTF-8 takes at most 3 bytes for each of its UTF-16 units.
    const most = typeof part === 'string' ? part.length * 3 : part.length;
    if (this.used + most > this.pieceBytes) this.flush();
    if (most > this.pieceBytes) this.onPiece(typeof part === 'string' ? Buffer.from(part) : part);
    else
      this.used +=
        typeof part === 'string' ? this.piece.write(part, this.used) : part.copy(this.piece, this.used);
  }

  /** Hands on the piece being filled, when anything is in it. */
  flush(): void {
    if (this.used === 0) return;
    // Whoever took the piece may keep it (a stream until it is written), so the next goes in a new one.
    this.onPiece(this.piece.subarray(0, this.used));
    this.piece = Buffer.allocUnsafe(this.pieceBytes);
    this.used = 0;
  }

  /** Forgets what the piece being filled holds. */
  clear(): void {
    this.used = 0;
  }
}
