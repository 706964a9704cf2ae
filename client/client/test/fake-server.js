// FAKE SERVER, for unit tests of pure client logic only (poke buffering,
// outbox numbering and renumbering, reconnects). It speaks just enough of the
// protocol for a test to script frames by hand; it is not the Shoal server.
// Integration tests run against the real worker (test/integration.test.js).

import { before, after } from 'node:test'
import { WebSocketServer } from 'ws'

/**
 * The fake server of one test file: started before its tests, stopped after them together with
 * every client the tests pushed onto `opened` (a client a failed test left open would keep the
 * process alive). `server` is filled in when it has started, so read it inside tests.
 */
export function fakeServerForFile() {
  const server = {}
  const opened = []
  before(async () => Object.assign(server, await startFakeServer()))
  after(async () => {
    await Promise.all(opened.map((c) => c.close()))
    await server.stop()
  })
  return { server, opened }
}

export async function startFakeServer() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (protocols) => (protocols.has('shoal-v1') ? 'shoal-v1' : false) })
  await new Promise((resolve) => wss.once('listening', resolve))
  const sockets = []
  const waiting = []
  wss.on('connection', (ws, req) => {
    const url = new URL(req.url, 'http://x')
    const socket = {
      ws,
      url,
      protocols: req.headers['sec-websocket-protocol'],
      frames: [], // every frame received, parsed ('ping' stays a string)
      send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
      close: (code) => ws.close(code),
      next: (type) => nextFrame(socket, type),
    }
    socket.listeners = []
    ws.on('message', (data) => {
      const text = data.toString()
      const frame = text === 'ping' ? text : JSON.parse(text)
      socket.frames.push(frame)
      for (const l of socket.listeners.splice(0)) l()
    })
    sockets.push(socket)
    for (const w of waiting.splice(0)) w()
  })
  return {
    url: `http://127.0.0.1:${wss.address().port}`,
    sockets,
    /** The n-th socket (0-based), once it connects. */
    async socket(n) {
      while (sockets.length <= n) await new Promise((resolve) => waiting.push(resolve))
      return sockets[n]
    },
    stop: () => new Promise((resolve) => {
      for (const s of sockets) s.ws.terminate()
      wss.close(resolve)
    }),
  }
}

/** The next frame of `type` not yet taken by an earlier call. */
async function nextFrame(socket, type) {
  socket.taken ??= new Set()
  for (;;) {
    const i = socket.frames.findIndex((f, i) => !socket.taken.has(i) && (f === type || f?.type === type))
    if (i >= 0) {
      socket.taken.add(i)
      return socket.frames[i]
    }
    await new Promise((resolve) => socket.listeners.push(resolve))
  }
}
