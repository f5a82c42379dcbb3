/*
 * The two client protocols, both spoken over a plain `ws` WebSocket so that the client side costs
 * the same against either server:
 *
 *   Wigglypuff  ws://HOST:PORT/api/room/join/{room}/{uuid}; the first frame is RoomState, then
 *               JSON events with a room-wide seq ({"action":"ClickAya","aya":N,"seq":S}); the master
 *               gets {"action":"Ack","of":"ClickAya","seq":S} for its own. It sends
 *               {"action":"ClickAya","aya":N}, after one {"action":"MoveSura","id_quran":2} sent at its
 *               RoomState (the server checks each aya against the room's sura). Pings are WebSocket
 *               ping frames (ws answers them).
 *   Socket.IO   engine.io protocol 4 over its WebSocket transport: ws://HOST:PORT/socket.io/?EIO=4&transport=websocket.
 *               The server opens with `0{"sid":...,"pingInterval":...}`; the client connects to
 *               namespace "/" with its auth, `40{"room":"r","uuid":"u"}`, and the server answers
 *               `40{"sid":...}`. Events are `42["Name",{...}]` both ways. The server pings with `2`,
 *               the client answers `3`.
 */
import { BENCH_SURA, type ServerKind } from './wire.js';

/** What a client gets from a frame, for the bench. */
export type Incoming =
  | { kind: 'RoomState'; seq: number | undefined }
  | { kind: 'ClickAya'; aya: unknown; seq: number | undefined }
  | { kind: 'Ack'; of: unknown; seq: number | undefined }
  | { kind: 'NewUser'; seq: number | undefined }
  /** The master's MoveSura before the load (Wigglypuff): a room-wide event outside the accounting. */
  | { kind: 'MoveSura'; seq: number | undefined }
  | { kind: 'Error'; text: string; seq: number | undefined }
  | { kind: 'Other'; text: string; seq: number | undefined };

/** One connection's side of a protocol. */
export interface ClientCodec {
  url(ws: string): string;
  /**
   * Reads one text frame: the event in it, or undefined for a frame the protocol handles itself
   * (Socket.IO's open, ping and connect), answering it through `reply` when it needs an answer.
   */
  read(text: string, reply: (text: string) => void): Incoming | undefined;
  clickAya(aya: number): string;
  /** What a master sends once at its RoomState, before any load (undefined: nothing). */
  masterSetup(): string | undefined;
}

export function codecFor(server: ServerKind, room: string, uuid: string): ClientCodec {
  return server === 'wigglypuff' ? new WigglypuffCodec(room, uuid) : new SocketIoCodec(room, uuid);
}

interface WigglypuffFrame {
  action?: string;
  seq?: number;
  aya?: unknown;
  of?: unknown;
  code?: string;
  message?: string;
}

class WigglypuffCodec implements ClientCodec {
  constructor(
    private readonly room: string,
    private readonly uuid: string,
  ) {}

  url(ws: string): string {
    return `${ws}/api/room/join/${encodeURIComponent(this.room)}/${encodeURIComponent(this.uuid)}`;
  }

  read(text: string): Incoming {
    let frame: WigglypuffFrame;
    try {
      frame = JSON.parse(text) as WigglypuffFrame;
    } catch {
      return { kind: 'Other', text: `non-JSON frame ${text.slice(0, 100)}`, seq: undefined };
    }
    const seq = typeof frame.seq === 'number' ? frame.seq : undefined;
    switch (frame.action) {
      case 'ClickAya':
        return { kind: 'ClickAya', aya: frame.aya, seq };
      case 'Ack':
        return { kind: 'Ack', of: frame.of, seq };
      case 'NewUser':
        return { kind: 'NewUser', seq };
      case 'MoveSura':
        return { kind: 'MoveSura', seq };
      case 'RoomState':
        return { kind: 'RoomState', seq };
      case 'Error':
        return { kind: 'Error', text: `${frame.code}: ${frame.message}`, seq };
      default:
        return { kind: 'Other', text: text.slice(0, 200), seq };
    }
  }

  clickAya(aya: number): string {
    return `{"action":"ClickAya","aya":${aya}}`;
  }

  /** A ClickAya needs the room's sura to hold its aya: sura 2 has 286 ayat, so the whole cycle 1..286 is valid. */
  masterSetup(): string {
    return `{"action":"MoveSura","id_quran":${BENCH_SURA}}`;
  }
}

/** engine.io packet types (the first character of a frame) and socket.io packet types (the second). */
const EIO_OPEN = '0';
const EIO_CLOSE = '1';
const EIO_PING = '2';
const EIO_MESSAGE = '4';
const EIO_NOOP = '6';
const SIO_CONNECT = '0';
const SIO_DISCONNECT = '1';
const SIO_EVENT = '2';
const SIO_CONNECT_ERROR = '4';

class SocketIoCodec implements ClientCodec {
  constructor(
    private readonly room: string,
    private readonly uuid: string,
  ) {}

  url(ws: string): string {
    return `${ws}/socket.io/?EIO=4&transport=websocket`;
  }

  read(text: string, reply: (text: string) => void): Incoming | undefined {
    switch (text[0]) {
      case EIO_MESSAGE:
        return this.readMessage(text);
      case EIO_PING:
        reply('3');
        return undefined;
      case EIO_OPEN:
        reply(`40${JSON.stringify({ room: this.room, uuid: this.uuid })}`);
        return undefined;
      case EIO_NOOP:
        return undefined;
      case EIO_CLOSE:
        return { kind: 'Other', text: 'engine.io close packet', seq: undefined };
      default:
        return { kind: 'Other', text: text.slice(0, 200), seq: undefined };
    }
  }

  private readMessage(text: string): Incoming | undefined {
    switch (text[1]) {
      case SIO_EVENT: {
        let event: unknown;
        try {
          event = JSON.parse(text.slice(2));
        } catch {
          return { kind: 'Other', text: `bad event ${text.slice(0, 100)}`, seq: undefined };
        }
        if (!Array.isArray(event)) return { kind: 'Other', text: text.slice(0, 200), seq: undefined };
        const [name, data] = event as [unknown, { aya?: unknown } | undefined];
        switch (name) {
          case 'ClickAya':
            return { kind: 'ClickAya', aya: data?.aya, seq: undefined };
          case 'NewUser':
            return { kind: 'NewUser', seq: undefined };
          case 'RoomState':
            return { kind: 'RoomState', seq: undefined };
          default:
            return { kind: 'Other', text: text.slice(0, 200), seq: undefined };
        }
      }
      case SIO_CONNECT:
        return undefined;
      case SIO_CONNECT_ERROR:
        return { kind: 'Error', text: `connect error ${text.slice(2, 200)}`, seq: undefined };
      case SIO_DISCONNECT:
        return { kind: 'Other', text: 'disconnected by the server (socket.io disconnect packet)', seq: undefined };
      default:
        return { kind: 'Other', text: text.slice(0, 200), seq: undefined };
    }
  }

  clickAya(aya: number): string {
    return `42["ClickAya",{"aya":${aya}}]`;
  }

  /** The Socket.IO anchor checks no aya. */
  masterSetup(): undefined {
    return undefined;
  }
}
