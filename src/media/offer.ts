import { AppError } from '../protocol/errors.js';

export type Direction = 'sendonly' | 'recvonly' | 'sendrecv' | 'inactive';

/** One m-line of a client's offer, as far as the SFU cares. */
export interface OfferedMedia {
  index: number;
  kind: string;
  mid: string;
  direction: Direction;
  opus?: { payloadType: number; fmtp: string };
  /** The id the client gave the `ssrc-audio-level` header extension, if it offered it. */
  audioLevelId?: number;
}

const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';

/** One `a=` line of an m-section, as far as the SFU cares. */
function readAttribute(media: OfferedMedia, line: string): void {
  const mid = /^a=mid:(\S+)/.exec(line);
  if (mid) {
    media.mid = mid[1]!;
    return;
  }
  const direction = /^a=(sendonly|recvonly|sendrecv|inactive)$/.exec(line);
  if (direction) {
    media.direction = direction[1] as Direction;
    return;
  }
  const rtpmap = /^a=rtpmap:(\d+) opus\/48000/i.exec(line);
  if (rtpmap) {
    media.opus ??= { payloadType: Number(rtpmap[1]), fmtp: '' };
    return;
  }
  const fmtp = /^a=fmtp:(\d+) (.*)$/.exec(line);
  if (fmtp) {
    if (media.opus && Number(fmtp[1]) === media.opus.payloadType) media.opus.fmtp = fmtp[2]!;
    return;
  }
  const extmap = /^a=extmap:(\d+)(?:\/\S+)? (\S+)/.exec(line);
  if (extmap && extmap[2] === AUDIO_LEVEL_URI) media.audioLevelId = Number(extmap[1]);
}

export function parseOffer(sdp: string): OfferedMedia[] {
  const media: OfferedMedia[] = [];
  let current: OfferedMedia | undefined;
  for (const raw of sdp.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('m=')) {
      current = { index: media.length, kind: line.slice(2).split(' ')[0]!, mid: String(media.length), direction: 'sendrecv' };
      media.push(current);
      continue;
    }
    if (!current) continue;
    readAttribute(current, line);
  }
  return media;
}

/** How the SFU answers an offer: which m-line carries the microphone, which ones are receive slots. */
export interface MediaPlan {
  /** The client's microphone (absent for a listen-only client), with the Opus parameters to answer. */
  uplink?: OfferedMedia & { opus: NonNullable<OfferedMedia['opus']> };
  /** Receive slots, in m-line order. */
  slots: (OfferedMedia & { opus: NonNullable<OfferedMedia['opus']> })[];
  /** Everything else is answered inactive. */
  unused: OfferedMedia[];
}

export interface AnswerOptions {
  /** Receive slots to answer at most. */
  slots: number;
  /** Ask the microphone for Opus DTX (`usedtx=1`, RFC 7587). */
  dtx: boolean;
}

/**
 * The recipe (docs/protocol.md, "Audio"): the first audio m-line that sends is the microphone; the
 * audio m-lines after it that receive are the slots, at most `options.slots`; the rest stay inactive.
 * The microphone is answered with the client's own Opus parameters, plus `usedtx=1` when
 * `options.dtx`: a parameter in the answer tells the client's encoder what the SFU wants to receive,
 * so a silent microphone then sends a few packets a second instead of 50.
 */
export function planAnswer(sdp: string, options: AnswerOptions): MediaPlan {
  const offered = parseOffer(sdp);
  if (offered.length === 0) throw new AppError('invalid_message', 'the offer has no m-line');
  const plan: MediaPlan = { slots: [], unused: [] };
  for (const media of offered) {
    const audio = media.kind === 'audio' && media.opus ? (media as OfferedMedia & { opus: NonNullable<OfferedMedia['opus']> }) : undefined;
    if (audio && !plan.uplink && plan.slots.length === 0 && (media.direction === 'sendonly' || media.direction === 'sendrecv')) {
      plan.uplink = { ...audio, opus: { ...audio.opus, fmtp: withDtx(audio.opus.fmtp, options.dtx) } };
    } else if (audio && plan.slots.length < options.slots && (media.direction === 'recvonly' || media.direction === 'sendrecv')) {
      plan.slots.push(audio);
    } else {
      plan.unused.push(media);
    }
  }
  if (!plan.uplink && plan.slots.length === 0) {
    throw new AppError('invalid_message', 'the offer has no Opus audio to send or receive');
  }
  return plan;
}

/** Opus fmtp parameters (`a=fmtp:<pt> key=value;...`) with `usedtx` set as asked. */
export function withDtx(fmtp: string, dtx: boolean): string {
  const parameters = fmtp
    .split(';')
    .map((parameter) => parameter.trim())
    .filter((parameter) => parameter !== '' && !/^usedtx=/i.test(parameter));
  return [...parameters, `usedtx=${dtx ? 1 : 0}`].join(';');
}
