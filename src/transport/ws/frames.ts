import * as ws from 'ws';
import type { ServerFrame } from '../../protocol/server-messages.js';

type FrameOptions = { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean };
/** ws frames data with `Sender.frame`, exported by ws and left out of its type declarations. */
const wsFrame = (ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } }).Sender.frame;

const TEXT = 1;

/**
 * A message as one WebSocket text frame, exactly as `ws` would send it (unmasked, server to
 * client), in one buffer: built once, the same bytes can be written to every socket that receives it.
 */
export function textFrame(message: ServerFrame): Buffer {
  const parts = wsFrame(Buffer.from(JSON.stringify(message)), { fin: true, rsv1: false, opcode: TEXT, mask: false, readOnly: false });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
