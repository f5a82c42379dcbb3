import type { NodeStatus } from '../protocol/operator.js';

/** What a node reports of itself with each heartbeat, for the operator (`GET /api/nodes`). */
export type NodeStatusFields = Omit<NodeStatus, 'node' | 'self'>;

/** A node of the cluster as the others see it. */
export interface NodeInfo {
  node: string;
  /** Media participants it hosts: where the next room's media goes (the least loaded). */
  load: number;
  /** What it reported with its last heartbeat; absent from a node that reports none (an older version). */
  status?: NodeStatusFields;
}

/** What a node tells the others about itself, read at each heartbeat (supplied by the composition). */
export interface NodeReport {
  /** Its media load, for media placement. */
  load(): number;
  status(): NodeStatusFields;
}

/**
 * Which nodes are alive. One node alone is its own registry; in a cluster each node announces
 * itself in Redis, and a survivor cleans up after a node that stopped announcing itself.
 */
export interface NodeRegistry {
  /** This node, as room memberships and media claims name it. */
  readonly node: string;
  /** The nodes alive now, this one included. */
  liveNodes(): Promise<NodeInfo[]>;
  /**
   * Called (on one survivor, once the reconnect grace is over) for a node that died: its members
   * must leave. The registry forgets the node once the returned promise resolves.
   */
  onDeadNode(handler: (node: string) => Promise<unknown>): void;
  start(): Promise<void>;
  close(): Promise<void>;
}
