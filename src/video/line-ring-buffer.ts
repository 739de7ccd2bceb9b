// Keeps the last lines of a child process's stderr, bounded in count and length, so that a
// restart can show why the process ended without storing its whole output.

export class LineRingBuffer {
  private readonly lines: string[] = [];
  private partialLine = '';

  /**
   * @param maxLines lines kept, the oldest dropped first
   * @param maxLineChars longer lines are cut to this many characters
   */
  constructor(
    readonly maxLines = 50,
    readonly maxLineChars = 500,
  ) {
    if (!(Number.isInteger(maxLines) && maxLines > 0)) {
      throw new RangeError(`maxLines should be a positive integer, instead got ${maxLines}`);
    }
  }

  /** Appends output. A carriage return ends a line too, because ffmpeg ends progress lines with it. */
  push(chunk: Buffer | string): void {
    const parts = (this.partialLine + chunk.toString()).split(/\r\n|\r|\n/);
    this.partialLine = (parts.pop() ?? '').slice(0, this.maxLineChars);
    for (const part of parts) this.add(part);
  }

  /** Returns the kept lines, oldest first, including an unterminated last line. */
  snapshot(): string[] {
    return this.partialLine === '' ? [...this.lines] : [...this.lines, this.partialLine].slice(-this.maxLines);
  }

  clear(): void {
    this.lines.length = 0;
    this.partialLine = '';
  }

  private add(line: string): void {
    if (line.trim() === '') return;
    this.lines.push(line.slice(0, this.maxLineChars));
    if (this.lines.length > this.maxLines) this.lines.shift();
  }
}
