/** One Server-Sent Event as the stream carried it: its `event:` name (`message` when none), its data lines joined, its id. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Reads the text/event-stream format, chunk by chunk as it arrives (a line may be split anywhere):
 * fields `event`, `data` (several lines join with `\n`) and `id`; a blank line ends an event;
 * comment lines (`:`) are skipped.
 */
export class ServerSentEventParser {
  private partial = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  private afterCR = false;

  /** The events the text completes. */
  push(chunk: string): ServerSentEvent[] {
    // A `\r\n` split between two chunks: its `\n` ends no second line.
    const text = this.afterCR && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    if (text === '') return [];
    this.afterCR = text.endsWith('\r');
    const lines = (this.partial + text).split(/\r\n|\r|\n/);
    // The last piece has no line end yet.
    this.partial = lines.pop()!;
    const events: ServerSentEvent[] = [];
    for (const line of lines) {
      if (line === '') {
        if (this.data.length > 0) {
          events.push({ event: this.event || 'message', data: this.data.join('\n'), ...(this.id !== undefined && { id: this.id }) });
        }
        this.event = '';
        this.data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'id') this.id = value;
    }
    return events;
  }
}
