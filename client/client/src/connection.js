// One WebSocket to one shard: subscriptions with their cursors, poke
// buffering, heartbeat, reconnects, and pushing that shard's outbox.
//
// Contracts (PROTOCOL.md):
// - parts of different pokes never interleave; nothing is applied before the
//   poke ends, then every part of it is handed over at once;
// - a subscription's cursor moves only at a poke's end, and only once the
//   subscription has received its first part on this socket;
// - a mutation's caller hears "done" only after a poke whose lastMutationId
//   covers it has been handed to every subscription, so the synced rows and
//   the end of the optimistic overlay land together.

import { utf8Length } from './cache.js'
import { ShoalError } from './errors.js'
import { AUTH_SUBPROTOCOL_PREFIX, CLOSE, LIMITS, PROTOCOL_VERSION, SUBPROTOCOL } from './wire.gen.js'

// What a server that does not say its limits in `connected` enforces by default.
const PUSH_MUTATIONS_MAX = LIMITS.mutationsPerPushMax
const FRAME_BYTES_MAX = LIMITS.frameBytesMax
const PUSH_BYTES_TARGET = 512 * 1024 // a push frame stays under this many UTF-8 bytes, or under the frame limit if lower
const PUSH_ENVELOPE_BYTES = 64 // {"type":"push","mutations":[...]} around the mutations

export class ShardConnection {
  /** @param {import('./index.js').ShoalClient} client @param {string} shard */
  constructor(client, shard) {
    this.client = client
    this.shard = shard
    this.subs = new Map() // subscription id -> subscription
    this.ws = null
    this.active = false // between connect() and the socket's close
    this.connected = false // `connected` received on the current socket
    this.stopped = false
    this.epoch = null
    this.attempt = 0
    this.timer = null
    this.heartbeat = null
    this.lastHeard = 0
    this.poke = null // the poke being buffered: { id, parts, bytes }
    this.waiters = new Map() // pending mutation -> { resolve, reject }
    this.awaitingPoke = [] // applied mutations whose covering poke has not come: { id, resolve }
    this.unsaved = new Set() // mutations not yet persisted: never sent
    this.sent = new Set() // mutations pushed on the current socket
    this.pushTimer = null
    this.pushAttempt = 0
    // The server's limits (connected.limits), and how many mutations a push may hold now: lowered
    // when the server refuses a push as a whole, so a batch never wedges.
    this.limits = { frameBytesMax: FRAME_BYTES_MAX, mutationsPerPushMax: PUSH_MUTATIONS_MAX }
    this.pushMax = PUSH_MUTATIONS_MAX
    this.inFlight = [] // the push frames sent on this socket and not answered yet, oldest first
  }

  // ---- lifecycle -------------------------------------------------------------

  open() {
    if (!this.active && !this.timer && !this.stopped) this.connect()
  }

  /** Reconnect now instead of waiting for the backoff (the browser came online). */
  reconnectNow() {
    this.attempt = 0 // attempts made offline say nothing of the network now
    if (!this.timer) return
    clearTimeout(this.timer)
    this.timer = null
    this.connect()
  }

  async connect() {
    this.timer = null
    this.active = true
    const c = this.client
    let token
    try {
      token = await c.token()
    } catch (err) {
      this.active = false
      if (err?.code === 'IDENTITY_CHANGED') return this.fail(err)
      c.reportError(err instanceof ShoalError ? err : new ShoalError('TOKEN_UNAVAILABLE', 'getToken() failed.', { cause: err }))
      return this.retry()
    }
    if (this.stopped) return (this.active = false)
    const url = `${c.wsBase}/sync?shard=${encodeURIComponent(this.shard)}&client=${encodeURIComponent(c.clientId)}&v=${PROTOCOL_VERSION}`
    // Browsers cannot set headers on a WebSocket: the token rides as a subprotocol.
    const protocols = token ? [SUBPROTOCOL, `${AUTH_SUBPROTOCOL_PREFIX}${token}`] : [SUBPROTOCOL]
    let ws
    try {
      ws = new c.WebSocket(url, protocols)
    } catch {
      // The constructor's error may quote the protocols, hence the token: don't pass it on.
      this.active = false
      c.reportError(new ShoalError('BAD_SERVER_FRAME', `could not open a WebSocket to ${url}.`, { context: `shard ${this.shard}` }))
      return this.retry()
    }
    this.ws = ws
    this.lastHeard = Date.now()
    this.socketToken = token
    this.upgradeStatus = 0
    ws.onmessage = (e) => this.ws === ws && this.onMessage(e.data)
    ws.onclose = (e) => this.ws === ws && this.onClosed(e.code)
    // A close event follows; its code tells what happened. Node's `ws` names a refused upgrade's
    // status here ("Unexpected server response: 401"); a browser does not (see authRefused).
    ws.onerror = (e) => {
      const status = /Unexpected server response: (\d+)/.exec(String(e?.message ?? ''))
      if (status && this.ws === ws) this.upgradeStatus = Number(status[1])
    }
    this.heartbeat = setInterval(() => this.beat(), c.heartbeatMs)
    this.heartbeat.unref?.()
  }

  /** Send `ping`; a socket that has said nothing for two periods is dead. */
  beat() {
    if (Date.now() - this.lastHeard > 2 * this.client.heartbeatMs) return this.drop('heartbeat timeout')
    if (this.ws?.readyState === 1) this.ws.send('ping')
  }

  /** Leave the socket now, without waiting for a close handshake that may never come. */
  drop(reason) {
    const ws = this.ws
    if (!ws) return
    try {
      ws.close(4000, reason)
    } catch {}
    this.onClosed(4000)
  }

  onClosed(code) {
    const wasConnected = this.connected
    this.ws = null
    this.active = false
    this.connected = false
    this.poke = null // a poke whose end never came is discarded
    this.sent.clear()
    // The server closes with 4009 at the first frame over its limit: the oldest unanswered push.
    if (code === CLOSE.FRAME_TOO_LARGE) this.pushRefused('FRAME_TOO_LARGE', 'the server closed the socket: a frame was over its size limit.')
    this.inFlight = []
    clearInterval(this.heartbeat)
    clearTimeout(this.pushTimer)
    this.pushTimer = null
    if (this.stopped) {
      // nothing more to do
    } else if (code === CLOSE.SHARD_FORBIDDEN) {
      this.fail(new ShoalError('FORBIDDEN', `this user may not use shard "${this.shard}".`))
    } else if (code === CLOSE.PROTOCOL_VERSION) {
      this.fail(new ShoalError('PROTOCOL_VERSION', `the server refused protocol version ${PROTOCOL_VERSION}.`))
    } else if (!wasConnected && this.socketToken && code !== CLOSE.TOKEN_EXPIRED) {
      // The upgrade failed: a refused token is not retried with backoff, it is the app's to renew.
      const token = this.socketToken
      this.socketToken = null
      this.active = true // checking; no other attempt meanwhile
      this.tokenRefused(token).then((refused) => {
        this.active = false
        if (this.stopped) return
        if (refused) this.client.authRefused(this)
        else this.retry()
        this.client.updateStatus()
      })
    } else {
      // An expired token is refreshed at once (connect() asks getToken() again).
      this.retry(code === CLOSE.TOKEN_EXPIRED && this.attempt === 0 ? 0 : undefined)
    }
    this.client.updateStatus()
  }

  /**
   * Whether the server refused `token` (HTTP 401) rather than the network failing. Node's `ws`
   * says the status; elsewhere ask the Worker: GET /sync with the token as a header answers 401
   * for a refused token and 426 otherwise.
   */
  async tokenRefused(token) {
    if (this.upgradeStatus) return this.upgradeStatus === 401
    if (typeof globalThis.fetch !== 'function' || !this.client.browserOnline) return false
    try {
      const url = `${this.client.wsBase.replace(/^ws/, 'http')}/sync?shard=${encodeURIComponent(this.shard)}&client=${encodeURIComponent(this.client.clientId)}&v=${PROTOCOL_VERSION}`
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' })
      return res.status === 401
    } catch {
      return false // no answer: the network, not the token
    }
  }

  retry(delay) {
    if (this.stopped) return
    const c = this.client
    delay ??= backoff(this.attempt, c.reconnectMinMs, c.reconnectMaxMs)
    this.attempt++
    // Not unref'd: a Node process waiting to deliver mutations should not exit.
    this.timer = setTimeout(() => this.connect(), delay)
  }

  /** Stop for good: a fatal close, or the client closing. */
  fail(err) {
    this.stop(err)
    for (const sub of this.subs.values()) sub.onError?.(err)
    this.client.reportError(err)
  }

  stop(err = new ShoalError('CLOSED', 'the client was closed.')) {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = null
    if (this.ws) {
      const ws = this.ws
      this.ws = null
      try {
        ws.close(1000, 'client closed')
      } catch {}
    }
    this.onClosed(1000)
    for (const { reject } of this.waiters.values()) reject(err)
    this.waiters.clear()
    // Applied on the server already: their callers are done, though no poke will show it here.
    for (const { resolve } of this.awaitingPoke) resolve()
    this.awaitingPoke = []
  }

  send(frame) {
    this.ws.send(JSON.stringify(frame))
  }

  // ---- incoming frames -------------------------------------------------------

  onMessage(data) {
    this.lastHeard = Date.now()
    if (data === 'pong' || typeof data !== 'string') return
    let msg
    try {
      msg = JSON.parse(data)
    } catch {
      return this.badFrame('a frame that is not JSON')
    }
    switch (msg?.type) {
      case 'connected':
        return this.onConnected(msg)
      case 'pokeStart':
        if (this.poke) return this.badFrame(`pokeStart ${msg.pokeId} before the end of poke ${this.poke.id}`)
        this.poke = { id: msg.pokeId, parts: [], bytes: data.length }
        return
      case 'pokePart':
        if (this.poke?.id !== msg.pokeId) return this.badFrame(`pokePart of poke ${msg.pokeId} outside it`)
        this.poke.bytes += data.length
        if (this.poke.bytes > this.client.pokeBytesMax) {
          this.client.reportError(new ShoalError('POKE_TOO_LARGE', `poke ${msg.pokeId} passed ${this.client.pokeBytesMax} bytes.`, { context: `shard ${this.shard}` }))
          return this.drop('poke too large')
        }
        this.poke.parts.push(msg)
        return
      case 'pokeEnd': {
        if (this.poke?.id !== msg.pokeId) return this.badFrame(`pokeEnd of poke ${msg.pokeId} outside it`)
        const { parts } = this.poke
        this.poke = null
        return this.applyPoke(parts, msg)
      }
      case 'poke':
        if (this.poke) return this.badFrame(`poke ${msg.pokeId} before the end of poke ${this.poke.id}`)
        return this.applyPoke(msg.parts ?? [], msg)
      case 'pushResult':
        return this.onPushResult(msg.results ?? [])
      case 'error':
        return this.onServerError(msg)
      default:
        return // a frame type from a newer server: ignore it
    }
  }

  badFrame(what) {
    this.client.reportError(new ShoalError('BAD_SERVER_FRAME', `the server sent ${what}; reconnecting.`, { context: `shard ${this.shard}` }))
    this.drop('bad frame')
  }

  onConnected(msg) {
    const c = this.client
    this.connected = true
    this.attempt = 0
    this.epoch = msg.epoch
    // The server's effective limits; a server that does not send them enforces the defaults.
    const limits = msg.limits ?? {}
    this.limits = {
      frameBytesMax: positive(limits.frameBytesMax) ?? FRAME_BYTES_MAX,
      mutationsPerPushMax: positive(limits.mutationsPerPushMax) ?? PUSH_MUTATIONS_MAX,
    }
    // Said limits are taken as they are; without them, what refusals taught this connection stays.
    this.pushMax = msg.limits ? this.limits.mutationsPerPushMax : Math.min(this.pushMax, this.limits.mutationsPerPushMax)
    const s = c.outbox.shard(this.shard)
    if (msg.lastMutationId < s.confirmed) {
      c.warn(
        `shard "${this.shard}" says the last mutation of client ${c.clientId} is ${msg.lastMutationId}, ` +
          `but it had confirmed ${s.confirmed}: the server lost that history (a wiped development database or a restore). ` +
          `Renumbering ${s.pending.length} pending mutation(s) from ${msg.lastMutationId + 1}.`,
      )
      c.outbox.renumber(this.shard, msg.lastMutationId + 1)
      // Mutations the server has forgotten will never be covered by a poke.
      for (const { resolve } of this.awaitingPoke) resolve()
      this.awaitingPoke = []
      c.outbox.save().catch((err) => c.reportError(err))
    }
    for (const sub of this.subs.values()) this.sendSubscribe(sub)
    this.flushPush()
    c.updateStatus()
  }

  applyPoke(parts, end) {
    const changes = new Map()
    for (const part of parts) {
      const sub = this.subs.get(part.sub)
      if (!sub) continue // unsubscribed meanwhile
      let change = changes.get(sub)
      if (!change) changes.set(sub, (change = { reset: part.reset === true, rows: [] }))
      else if (part.reset) (change.reset = true), (change.rows = [])
      for (const op of part.rows ?? []) change.rows.push(op)
    }
    const at = { seq: end.seq, epoch: end.epoch, lastMutationId: end.lastMutationId }
    for (const [sub, change] of changes) {
      sub.live = true
      try {
        sub.onChange({ ...change, ...at })
      } catch (err) {
        this.client.reportError(err)
      }
      // The same rows and the new cursor, in one atomic write of the row cache.
      this.client.cache.enqueue(sub, change, at)
    }
    for (const sub of this.subs.values()) if (sub.live) sub.cursor = { seq: end.seq, epoch: end.epoch }
    this.confirmUpTo(end.lastMutationId)
    if (end.epoch !== this.epoch) {
      // The log's timeline changed under this socket: start every view afresh.
      this.epoch = end.epoch
      for (const sub of this.subs.values()) (sub.cursor = null), this.sendSubscribe(sub)
    }
  }

  /** The rows handed over reflect every mutation up to `last`: those callers are done. */
  confirmUpTo(last) {
    if (typeof last !== 'number') return
    const c = this.client
    const done = c.outbox.confirm(this.shard, last)
    for (const m of done) {
      this.waiters.get(m)?.resolve()
      this.waiters.delete(m)
    }
    this.awaitingPoke = this.awaitingPoke.filter((a) => a.id > last || (a.resolve(), false))
    // The outbox lets go of them only once the rows that show them are in the cache.
    if (done.length) c.cache.settled().then(() => c.outbox.save()).catch((err) => c.reportError(err))
  }

  onPushResult(results) {
    this.inFlight.shift() // answers come in the order pushes were sent
    const c = this.client
    const ob = c.outbox
    let changed = false
    for (const r of results) {
      if (r.status === 'ok' || r.status === 'duplicate') {
        // Applied: never sent again; its caller hears with the covering poke, and it leaves the
        // persisted outbox once that poke's rows are cached (confirmUpTo).
        for (const m of ob.applied(this.shard, r.id)) {
          const w = this.waiters.get(m)
          this.waiters.delete(m)
          if (w) this.awaitingPoke.push({ id: m.id, resolve: w.resolve })
        }
        this.pushAttempt = 0
        changed = true
      } else if (r.code === 'OUT_OF_ORDER') {
        const s = ob.shard(this.shard)
        if (s.pending.length && r.expected < s.pending[0].id && r.expected <= s.confirmed) {
          c.warn(`shard "${this.shard}" expects mutation ${r.expected} but had confirmed ${s.confirmed}: renumbering pending mutations from ${r.expected}.`)
          ob.renumber(this.shard, r.expected)
          changed = true
        }
        this.retryPush()
      } else if (r.code === 'INTERNAL') {
        this.retryPush() // consumed nothing: send it again later
      } else {
        // Refused: its id is consumed and its writes rolled back on the server.
        for (const m of ob.applied(this.shard, r.id)) {
          const w = this.waiters.get(m)
          this.waiters.delete(m)
          if (m.id !== r.id) {
            if (w) this.awaitingPoke.push({ id: m.id, resolve: w.resolve })
            continue
          }
          ob.refused(this.shard, m)
          const err = new ShoalError(r.code ?? 'MUTATOR_FAILED', r.message ?? 'the mutation was refused.', {
            context: `mutation ${m.name} #${m.id}`,
            ...(typeof r.shard === 'string' ? { shard: r.shard } : {}),
          })
          if (w) w.reject(err)
          // Replayed from a previous page: nobody else will hear of it.
          if (!w || w.adopted) c.reportError(err)
        }
        changed = true
      }
    }
    if (changed) ob.save().catch((err) => c.reportError(err))
  }

  onServerError(msg) {
    const c = this.client
    const sub = msg.id != null ? this.subs.get(msg.id) : undefined
    const err = new ShoalError(msg.code ?? 'INTERNAL', msg.message ?? 'no message.', {
      context: sub ? `subscription ${sub.shape}` : `shard ${this.shard}`,
    })
    if (sub) {
      this.subs.delete(sub.id) // a refused subscription is not held by the server
      if (msg.code === 'WRONG_SHARD' && typeof msg.shard === 'string' && !sub.moved) return c.moveSubscription(sub, msg.shard)
      c.cache.remove(sub) // nor are its rows to be shown again
      return sub.onError ? sub.onError(err) : c.reportError(err)
    }
    if (msg.code === 'TOKEN_EXPIRED' || msg.code === 'PROTOCOL_VERSION') return // the close that follows handles it
    if (msg.code === 'BAD_FRAME' && this.inFlight.length) {
      // A push refused as a whole (e.g. more mutations than the server takes): nothing in it ran.
      return this.pushRefused('BAD_FRAME', msg.message ?? 'the server refused the push.')
    }
    c.reportError(err)
  }

  // ---- subscriptions ---------------------------------------------------------

  subscribe(sub) {
    this.subs.set(sub.id, sub)
    if (this.connected) this.sendSubscribe(sub)
    else this.open()
  }

  unsubscribe(id) {
    if (this.subs.delete(id) && this.connected) this.send({ type: 'unsubscribe', id })
  }

  sendSubscribe(sub) {
    sub.live = false
    const frame = { type: 'subscribe', id: sub.id, shape: sub.shape, args: sub.args }
    // Resume only on the same timeline; otherwise the server must start us afresh.
    if (sub.cursor && sub.cursor.epoch === this.epoch) frame.since = sub.cursor
    this.send(frame)
  }

  // ---- mutations -------------------------------------------------------------

  async mutate(name, args) {
    const ob = this.client.outbox
    const m = ob.add(this.shard, name, args)
    const done = new Promise((resolve, reject) => this.waiters.set(m, { resolve, reject }))
    this.unsaved.add(m)
    try {
      await ob.save()
    } catch (err) {
      this.unsaved.delete(m)
      this.waiters.delete(m)
      ob.drop(this.shard, m)
      throw err
    }
    this.unsaved.delete(m)
    this.open()
    this.flushPush()
    return done
  }

  /** Push every persisted mutation not yet sent on this socket, in id order. */
  // Batches are cut by the UTF-8 size of the frame, as the server counts it, and by the number of
  // mutations it takes (connected.limits, lowered further by refusals): a batch is never resent as
  // the same frame the server refused.
  flushPush() {
    if (!this.connected || this.pushTimer) return
    const budget = Math.min(PUSH_BYTES_TARGET, this.limits.frameBytesMax) - PUSH_ENVELOPE_BYTES
    let batch = []
    let bytes = 0
    for (const m of [...this.client.outbox.shard(this.shard).pending]) {
      if (this.unsaved.has(m)) break // saves finish in order: the rest are unsaved too
      if (this.sent.has(m)) continue
      const size = utf8Length(JSON.stringify({ id: m.id, name: m.name, args: m.args })) + 1
      if (size > this.limits.frameBytesMax - PUSH_ENVELOPE_BYTES) {
        // Alone it is over the server's frame limit: sending it would close the socket, forever.
        if (batch.length) this.sendPush(batch)
        batch = []
        bytes = 0
        this.refuseLocally(m, 'FRAME_TOO_LARGE', `it takes ${size} bytes, over the server's frame limit (${this.limits.frameBytesMax}).`)
        continue
      }
      if (batch.length && (batch.length >= this.pushMax || bytes + size > budget)) {
        this.sendPush(batch)
        batch = []
        bytes = 0
      }
      batch.push(m)
      bytes += size
    }
    if (batch.length) this.sendPush(batch)
  }

  sendPush(batch) {
    this.send({ type: 'push', mutations: batch.map(({ id, name, args }) => ({ id, name, args })) })
    for (const m of batch) this.sent.add(m)
    this.inFlight.push(batch)
  }

  /**
   * The server refused a push frame as a whole (BAD_FRAME, or a close 4009): nothing in it ran.
   * Send fewer mutations per push from now on; a single mutation refused so is given up (its
   * promise rejects) and the ones after it are renumbered, so the outbox never wedges.
   */
  pushRefused(code, message) {
    const batch = this.inFlight.shift()
    if (!batch?.length) return
    if (batch.length > 1) {
      this.pushMax = Math.max(1, Math.floor(batch.length / 2))
    } else {
      this.refuseLocally(batch[0], code, message)
    }
    if (this.connected) this.retryPush()
    else this.sent.clear()
  }

  /** Gives up a pending mutation the server can never take: its id is reused by the next one. */
  refuseLocally(m, code, message) {
    const c = this.client
    const ob = c.outbox
    if (!ob.shard(this.shard).pending.includes(m)) return
    ob.drop(this.shard, m)
    this.sent.clear()
    const err = new ShoalError(code, message, { context: `mutation ${m.name} #${m.id}` })
    const w = this.waiters.get(m)
    this.waiters.delete(m)
    if (w) w.reject(err)
    if (!w || w.adopted) c.reportError(err)
    ob.save().catch((e) => c.reportError(e))
  }

  retryPush() {
    this.sent.clear()
    if (this.pushTimer) return
    const c = this.client
    this.pushTimer = setTimeout(() => {
      this.pushTimer = null
      this.flushPush()
    }, backoff(this.pushAttempt++, c.reconnectMinMs, c.reconnectMaxMs))
  }
}

const positive = (n) => (Number.isInteger(n) && n > 0 ? n : undefined)

/** Exponential backoff with jitter, so that clients dropped together do not return together. */
export function backoff(attempt, minMs, maxMs) {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30))
  return cap / 2 + (Math.random() * cap) / 2
}
