import { createSocket } from 'node:dgram';
import nodeDataChannel from 'node-datachannel';

const { IceUdpMuxListener } = nodeDataChannel;
type Listener = InstanceType<typeof IceUdpMuxListener>;

/** A range beyond this many ports is refused: each port is one native thread, and a few spread the load as well as many. */
export const MAX_MEDIA_PORTS = 256;
const FREE_PORT_ATTEMPTS = 5;

/** A media port that cannot be had: the start stops with this message. */
export class MediaPortError extends Error {
  override name = 'MediaPortError';
}

interface HeldPort {
  port: number;
  listener: Listener;
  peers: number;
}

/**
 * The UDP ports every WebRTC peer of this node shares (ICE UDP mux), bound at start and held until
 * the server closes. Holding them is what keeps the node up: libdatachannel would otherwise bind a
 * mux port with its first peer and free it with its last, and a peer created while another socket
 * has taken the port aborts the whole process from native code. With the port held, every peer
 * joins the held listener and never binds.
 */
export class MediaPorts {
  private constructor(private readonly held: HeldPort[]) {}

  /**
   * Binds `begin`..`end` (one port: MEDIA_PORT; `0`: one the system picks; several: MEDIA_PORT_RANGE,
   * peers spread over them). Rejects with MediaPortError when a port cannot be bound.
   */
  static async open(ports: { begin: number; end: number }, bindAddress?: string): Promise<MediaPorts> {
    if (ports.end - ports.begin + 1 > MAX_MEDIA_PORTS) {
      throw new MediaPortError(`MEDIA_PORT_RANGE ${ports.begin}-${ports.end} has more than ${MAX_MEDIA_PORTS} ports`);
    }
    const held: HeldPort[] = [];
    try {
      if (ports.begin === 0) {
        held.push(await holdFreePort(bindAddress));
      } else {
        for (let port = ports.begin; port <= ports.end; port++) held.push(hold(port, bindAddress));
      }
    } catch (error) {
      for (const { listener } of held) listener.stop();
      throw error;
    }
    return new MediaPorts(held);
  }

  /** The ports held, lowest first. */
  get ports(): number[] {
    return this.held.map(({ port }) => port);
  }

  /** The port for a new peer (the one with the fewest peers); give it back with `release` when the peer closes. */
  take(): number {
    const least = this.held.reduce((best, port) => (port.peers < best.peers ? port : best));
    least.peers += 1;
    return least.port;
  }

  release(port: number): void {
    const held = this.held.find((candidate) => candidate.port === port);
    if (held && held.peers > 0) held.peers -= 1;
  }

  /** Unbinds every port: call once every peer is closed. */
  close(): void {
    for (const { listener } of this.held.splice(0)) listener.stop();
  }
}

function hold(port: number, bindAddress: string | undefined): HeldPort {
  try {
    return { port, listener: new IceUdpMuxListener(port, bindAddress), peers: 0 };
  } catch (error) {
    const where = `${bindAddress ?? '0.0.0.0'}:${port}`;
    throw new MediaPortError(`the media port ${where} (UDP) cannot be bound: ${(error as Error).message}; is it in use?`);
  }
}

/** MEDIA_PORT=0: a port the system says is free, bound at once (again if another socket took it meanwhile). */
async function holdFreePort(bindAddress: string | undefined): Promise<HeldPort> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeUdpPort(bindAddress);
    try {
      return hold(port, bindAddress);
    } catch (error) {
      if (attempt >= FREE_PORT_ATTEMPTS) throw error;
    }
  }
}

function freeUdpPort(address = '0.0.0.0'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, address, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
