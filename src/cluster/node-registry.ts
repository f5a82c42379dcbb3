/** A node of the cluster as the others see it. */
export interface NodeInfo {
  node: string;
  /** Media participants it hosts: where the next room's media goes (the least loaded). */
  load: number;
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
