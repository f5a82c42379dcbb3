import type { NodeInfo, NodeRegistry } from './node-registry.js';

/** The registry of a node alone: itself, alive while it runs. */
export class LocalNodeRegistry implements NodeRegistry {
  constructor(
    readonly node: string,
    private readonly load: () => number,
  ) {}

  async liveNodes(): Promise<NodeInfo[]> {
    return [{ node: this.node, load: this.load() }];
  }

  onDeadNode(): void {
    // A node alone never sees another die.
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {}
}
