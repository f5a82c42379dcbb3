/**
 * The WebSocket the SDK drives: the browser's, Node 22's global one, `ws` in Node 20, React
 * Native's. Only the standard surface is used (addEventListener, send, close, readyState); `terminate`
 * is used when there (Node's `ws`) to cut a connection without a close frame.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: { message?: string; error?: unknown }) => void): void;
  terminate?(): void;
}

/** A WebSocket class: `new WebSocket(url)`. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export const OPEN = 1;

/** The global WebSocket, when there is one (browsers, Node 22+, React Native). */
export const globalWebSocket = (): WebSocketConstructor | undefined => {
  const candidate = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  return typeof candidate === 'function' ? candidate : undefined;
};

/** The text of a message event's data (text frames only: the server sends nothing else). */
export function messageText(data: unknown): string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return new TextDecoder().decode(data);
  return undefined;
}
