// A TCP proxy in front of the worker that can drop the network and bring it
// back: the real way to cut live sockets (and refuse new ones) in a test.
import net from "node:net";

/** A proxy to `target` ({url}); returns {url, down(), up(), close()}. */
export async function cuttableNetwork(target) {
  const to = new URL(target.url);
  const open = new Set();
  let offline = false;
  const server = net.createServer((inbound) => {
    if (offline) return inbound.destroy();
    const outbound = net.connect(Number(to.port), to.hostname);
    open.add(inbound).add(outbound);
    const drop = () => (inbound.destroy(), outbound.destroy(), open.delete(inbound), open.delete(outbound));
    inbound.on("error", drop).on("close", drop).pipe(outbound);
    outbound.on("error", drop).on("close", drop).pipe(inbound);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const down = () => {
    offline = true;
    for (const s of open) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    down,
    up: () => (offline = false),
    close: () => new Promise((resolve) => (down(), server.close(() => resolve()))),
  };
}
