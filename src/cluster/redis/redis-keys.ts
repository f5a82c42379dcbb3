/**
 * Every Redis key and channel name, in one place. A room's keys and its event channel carry the
 * room's hash tag (`{room}`), so in a Redis Cluster they live in one slot and a Lua script may touch
 * them together; a node's relay channel carries the node's.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Hash: `room` (the Room as JSON, without seq and version), `seq`, `version`. */
  roomState(room: string): string {
    return `${this.prefix}{${room}}:state`;
  }

  /** List: the room-wide events kept for resuming clients, as JSON with `seq` and `at`. */
  roomHistory(room: string): string {
    return `${this.prefix}{${room}}:history`;
  }

  /** Channel: every event of the room, published by its commit. */
  roomEvents(room: string): string {
    return `${this.prefix}{${room}}:events`;
  }

  /** String: the node that hosts the room's media, with a lease. */
  mediaClaim(room: string): string {
    return `${this.prefix}{${room}}:media`;
  }

  /** Set: every room name (a cache: `list` repairs it, since it lives in another slot than the rooms). */
  get rooms(): string {
    return `${this.prefix}rooms`;
  }

  /** Set: every node that has announced itself and has not been cleaned up after. */
  get nodes(): string {
    return `${this.prefix}nodes`;
  }

  /** String with an expiry: a node's heartbeat; its value is the node's media load. */
  node(node: string): string {
    return `${this.prefix}node:${node}`;
  }

  /** String with the heartbeat's expiry: the node's status for the operator (NodeStatusFields as JSON). */
  nodeStatus(node: string): string {
    return `${this.prefix}node-status:${node}`;
  }

  /** Lock: the one survivor that cleans up after a dead node. */
  reapLock(node: string): string {
    return `${this.prefix}reap:${node}`;
  }

  /** Channel: media signaling addressed to a node. */
  relay(node: string): string {
    return `${this.prefix}{node:${node}}:relay`;
  }
}
