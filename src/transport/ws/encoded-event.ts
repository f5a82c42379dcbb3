import type { AckFrame } from '../../protocol/server-messages.js';
import type { RoomEvent } from '../../room/room-event.js';
import { textFrame } from './frames.js';

/**
 * A room event as its sockets receive it, encoded once per node however many sockets that is: the
 * frame every receiver gets (the message with its seq), and the Ack the sender a room-wide event
 * leaves out gets instead. Each is built when first asked for. The one connection the event
 * answers (its `reply`) gets an Ack of its own, with its request id.
 */
export class EncodedEvent {
  private receiverFrame: Buffer | undefined;
  private senderFrame: Buffer | undefined;

  /**
   * `replayed`: sent again to a resuming client, which never saw it live. Then the one it left out
   * gets the event itself, since an Ack would not tell it what its command changed.
   */
  constructor(
    readonly event: RoomEvent,
    private readonly replayed = false,
  ) {}

  get seq(): number | undefined {
    return this.event.seq;
  }

  get action(): string {
    return this.event.message.action;
  }

  /** Whether `uuid` is the one a room-wide event leaves out (it gets the Ack), unless replayed. */
  leavesOut(uuid: string): boolean {
    return !this.replayed && this.event.audience.to === 'room' && this.event.audience.except === uuid;
  }

  forReceiver(): Buffer {
    const { message, seq } = this.event;
    this.receiverFrame ??= textFrame(seq === undefined ? message : { ...message, seq });
    return this.receiverFrame;
  }

  /**
   * A room-wide event that leaves out its originator (ClickAya, MoveSura, MuteAll) reaches the
   * originator as an Ack with the event's seq, so every client still sees every seq.
   */
  forSender(): Buffer {
    this.senderFrame ??= textFrame({ action: 'Ack', of: this.event.message.action as AckFrame['of'], seq: this.event.seq! });
    return this.senderFrame;
  }

  /** The Ack answering the command of connection `conn`, when this event carries its reply (built for that one connection). */
  replyFor(conn: string): AckFrame | undefined {
    const reply = this.event.reply;
    if (reply?.conn !== conn) return undefined;
    return { action: 'Ack', of: reply.of, id: reply.id, seq: this.event.seq! };
  }
}
