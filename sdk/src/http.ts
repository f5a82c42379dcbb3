/**
 * The part of `fetch` the SDK uses: browsers, Node 18+, React Native and undici all have it.
 * The response's `body` (a stream of bytes) serves the operator event stream only.
 */
export type FetchLike = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string },
) => Promise<{ status: number; text(): Promise<string>; body?: ByteStreamLike | null }>;

/** The part of a response body (a ReadableStream of bytes) the SDK reads. */
export interface ByteStreamLike {
  getReader(): {
    read(): Promise<{ done: boolean; value?: Uint8Array }>;
    cancel(reason?: unknown): Promise<void>;
  };
}

/** The part of an AbortSignal the SDK uses (browsers' and Node's alike). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** The server's HTTP envelope: `{success: true, data}` or `{success: false, error: {code, message}}`. */
export type Envelope<T> = { success: true; data: T } | { success: false; error: { code: string; message: string } };

/** The global fetch, when there is one. */
export const globalFetch = (): FetchLike | undefined => {
  const candidate = (globalThis as { fetch?: FetchLike }).fetch;
  return typeof candidate === 'function' ? candidate.bind(globalThis) : undefined;
};

/** `ws://` and `wss://` as `http://` and `https://` (and the reverse), the rest of the URL unchanged. */
export const toHttpUrl = (url: string): string => url.replace(/^ws(s?):\/\//i, 'http$1://');
export const toWsUrl = (url: string): string => url.replace(/^http(s?):\/\//i, 'ws$1://');

/** Parses an envelope from a response body; undefined when the body is not one. */
export function parseEnvelope<T>(text: string): Envelope<T> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === 'object' && value !== null && typeof (value as { success?: unknown }).success === 'boolean') {
      return value as Envelope<T>;
    }
  } catch {
    // not JSON: no envelope
  }
  return undefined;
}
