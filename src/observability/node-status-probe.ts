import { hostname } from 'node:os';
import type { NodeStatusFields } from '../cluster/node-registry.js';

export interface NodeStatusSources {
  /** Rooms with at least one WebSocket on this node. */
  rooms(): number;
  /** Room WebSockets open on this node. */
  sockets(): number;
  /** Media participants this node's SFU hosts. */
  mediaPeers(): number;
}

/** CPU use is measured over at least this long, so two reads in a row do not make a figure of noise. */
const MIN_CPU_WINDOW_MS = 1000;

const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * This node's status as the operator sees it (`GET /api/nodes`), read at each heartbeat: where it
 * listens, how long it has run, its rooms, sockets and media peers, and the process's CPU and memory.
 */
export class NodeStatusProbe {
  private readonly startedAt = Date.now();
  private address: string;
  private sample = { at: performance.now(), usage: process.cpuUsage() };
  /** Until a first window is over: the average since the process started. */
  private cpu: number;

  constructor(
    private readonly host: string,
    port: number,
    private readonly sources: NodeStatusSources,
  ) {
    this.address = addressOf(host, port);
    const { user, system } = this.sample.usage;
    this.cpu = (user + system) / 1000 / Math.max(1, process.uptime() * 1000);
  }

  /** The node listens: on this port (PORT=0 has the system pick it). */
  listening(port: number): void {
    this.address = addressOf(this.host, port);
  }

  status(): NodeStatusFields {
    const memory = process.memoryUsage();
    return {
      address: this.address,
      started_at: new Date(this.startedAt).toISOString(),
      uptime_s: Math.floor((Date.now() - this.startedAt) / 1000),
      rooms: this.sources.rooms(),
      sockets: this.sources.sockets(),
      media_peers: this.sources.mediaPeers(),
      cpu: Math.round(this.cpuUse() * 1000) / 1000,
      memory: { rss: memory.rss, heap_used: memory.heapUsed },
    };
  }

  /** The fraction of one core used since the last sample (at least MIN_CPU_WINDOW_MS ago). */
  private cpuUse(): number {
    const now = performance.now();
    const elapsedMs = now - this.sample.at;
    if (elapsedMs >= MIN_CPU_WINDOW_MS) {
      const { user, system } = process.cpuUsage(this.sample.usage);
      this.cpu = (user + system) / 1000 / elapsedMs;
      this.sample = { at: now, usage: process.cpuUsage() };
    }
    return this.cpu;
  }
}

/** `<host>:<port>`, the machine's name for a wildcard host, an IPv6 literal in brackets. */
function addressOf(host: string, port: number): string {
  const shown = WILDCARD_HOSTS.has(host) ? hostname() : host;
  return shown.includes(':') && !shown.startsWith('[') ? `[${shown}]:${port}` : `${shown}:${port}`;
}
