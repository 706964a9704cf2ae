// Type check of @shoal/client's hand-written .d.ts (test/types.test.js runs tsc --strict with the
// DOM's lib over it). Compiled only; never run.
import { ShoalClient, type ConnectionStatus, type ShardStatus, type SyncStatus } from '../src/index.js'

// The DOM's WebSocket is accepted as it is, without a cast (its handlers take MessageEvent, CloseEvent).
const dom = new ShoalClient({ baseUrl: 'https://chat.example.workers.dev', WebSocket })
const explicit = new ShoalClient({ baseUrl: 'https://chat.example.workers.dev', WebSocket: globalThis.WebSocket })

// So is a subclass of it (e.g. one that watches or logs its sockets).
class LoggedWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols)
    this.addEventListener('close', (e: CloseEvent) => console.log('closed', e.code))
  }
}
const logged = new ShoalClient({ baseUrl: 'http://127.0.0.1:8787', WebSocket: LoggedWebSocket })

// A constructor of something else is still refused.
class NotASocket {
  constructor(public url: string) {}
}
// @ts-expect-error: no send, close, handlers
void new ShoalClient({ baseUrl: 'http://127.0.0.1:8787', WebSocket: NotASocket })

// The status of the client and of its shards.
const status: ConnectionStatus = dom.status
const pending: number = dom.pendingCount
const snapshot: SyncStatus = explicit.syncStatus
const shard: ShardStatus | undefined = snapshot.shards['team:1']
const unsubscribe: () => void = logged.onStatus(({ status, pending, shards }) => {
  const s: 'online' | 'connecting' | 'offline' = status
  console.log(s, pending, Object.keys(shards))
})
unsubscribe()
// @ts-expect-error: not a status
const wrong: typeof status = 'disconnected'
void [pending, shard, wrong]
