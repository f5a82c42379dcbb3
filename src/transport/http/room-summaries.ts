import type { MediaRouter } from '../../cluster/media-router.js';
import type { RoomSummary, RoomsPage } from '../../protocol/operator.js';
import { type Room, viewOf } from '../../room/room.js';
import type { RoomService } from '../../room/room-service.js';

/** Rooms as an operator sees them: each one's view, where its media is now, and when it was created. */
export class RoomSummaries {
  constructor(
    private readonly rooms: RoomService,
    private readonly media: MediaRouter,
  ) {}

  /** One room (AppError `room_not_found` when there is none). */
  async get(name: string): Promise<RoomSummary> {
    return this.summaryOf(await this.rooms.load(name));
  }

  /** The rooms after `after`, sorted by name, at most `limit`; a room deleted meanwhile is left out. */
  async page(limit: number, after?: string): Promise<RoomsPage> {
    const { names, more, total } = await this.rooms.namesPage(limit, after);
    const found = await Promise.all(names.map((name) => this.rooms.find(name)));
    const rooms = await Promise.all(found.flatMap((room) => (room ? [this.summaryOf(room)] : [])));
    return { rooms, next: more ? names[names.length - 1]! : null, total };
  }

  private async summaryOf(room: Room): Promise<RoomSummary> {
    return {
      ...viewOf(room),
      media_node: await this.media.hostOf(room.name),
      created_at: room.createdAt === null ? null : new Date(room.createdAt).toISOString(),
    };
  }
}
