/** What went wrong in the audio, as `RoomAudio`'s `error` event and its rejections say it. */
export type AudioErrorCode =
  /** The microphone could not be opened (permission refused, no device, device busy): the class goes on listen-only. */
  | 'microphone'
  /** The server refused the offer (`serverCode`: e.g. invalid_message, unavailable); offered again with a backoff. */
  | 'refused'
  /** The WebRTC stack failed to make or apply a description, or to add a candidate. */
  | 'negotiation'
  /** The ICE servers (GET /network_transversal) could not be fetched: the last ones known, or none, are used. */
  | 'ice_servers'
  /** The output device could not be set. */
  | 'output'
  /** getStats() failed. */
  | 'stats'
  /** The audio was closed (close(), or the room client stopped for good). */
  | 'closed';

export class AudioError extends Error {
  readonly code: AudioErrorCode;
  /** For `refused`: the server's error code. */
  readonly serverCode: string | undefined;

  constructor(code: AudioErrorCode, message: string, details: { serverCode?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AudioError';
    this.code = code;
    this.serverCode = details.serverCode;
  }
}
