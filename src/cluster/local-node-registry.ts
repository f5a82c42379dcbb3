import type { NodeInfo, NodeRegistry, NodeReport } from './node-registry.js';

/** The registry of a node alone: itself, alive while it runs. */
export class LocalNodeRegistry implements NodeRegistry {
  constructor(
    readonly node: string,
    private readonly report: NodeReport,
  ) {}

  async liveNodes(): Promise<NodeInfo[]> {
    return [{ node: this.node, load: this.report.load(), status: this.report.status() }];
  }

  onDeadNode(): void {
    // A node alone never sees another die.
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {}
}
