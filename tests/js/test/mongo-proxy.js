// A TCP proxy in front of MongoDB, for a node whose link to it a test cuts
// and restores.
import { once } from 'node:events';
import net from 'node:net';

/** A TCP proxy to MongoDB that a test can cut and restore. */
export async function mongoProxy(target) {
  const { hostname, port } = new URL(target.replace('mongodb://', 'http://'));
  const links = new Set();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    const link = [client, upstream];
    links.add(link);
    const close = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    uri: `mongodb://127.0.0.1:${server.address().port}/?directConnection=true`,
    cut() {
      open = false;
      for (const [client, upstream] of links) {
        client.destroy();
        upstream.destroy();
      }
    },
    restore() {
      open = true;
    },
    close() {
      this.cut();
      server.close();
    },
  };
}
