import { createSocket } from 'node:dgram';

/** A UDP port free right now on `address` (MEDIA_PORT=0: let the system choose, as PORT=0 does for HTTP). */
export function freeUdpPort(address = '0.0.0.0'): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, address, () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
