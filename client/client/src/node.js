// Node-only pieces, kept out of the main entry so browser bundles never see node:fs.

import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { mapCache } from './cache.js'

/**
 * Outboxes as JSON files in `dir`, one per client id. Writes go to a temporary
 * file that is then renamed, so a crash never leaves half an outbox.
 * One process per directory: the lock that makes one writer per outbox is
 * process-wide (see locks.js).
 * @param {string} dir
 * @returns {import('./index.js').OutboxStorage}
 */
export function fileStorage(dir) {
  const file = (clientId) => join(dir, `${clientId}.json`)
  return {
    async list() {
      await mkdir(dir, { recursive: true })
      const names = (await readdir(dir)).filter((n) => n.endsWith('.json'))
      const records = []
      for (const name of names) {
        try {
          records.push(JSON.parse(await readFile(join(dir, name), 'utf8')))
        } catch {
          // unreadable or vanished: not an outbox we can adopt
        }
      }
      return records
    },
    async put(record) {
      await mkdir(dir, { recursive: true })
      const tmp = `${file(record.clientId)}.${process.pid}.tmp`
      await writeFile(tmp, JSON.stringify(record))
      await rename(tmp, file(record.clientId))
    },
    async delete(clientId) {
      await rm(file(clientId), { force: true })
    },
    ...fileCache(join(dir, 'cache')),
  }
}

/**
 * The row cache as one file per subscription in `dir` (named by a hash of its key): a line with
 * the subscription's record (cursor, size, last use), then its rows as JSON. Each write replaces
 * the whole file through a rename, so rows and cursor change together or not at all.
 */
function fileCache(dir) {
  const file = (key) => join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.rows`)
  const parse = (text) => {
    const nl = text.indexOf('\n')
    return { meta: JSON.parse(text.slice(0, nl)), rows: () => JSON.parse(text.slice(nl + 1)) }
  }
  const rowKey = (r) => `${r.table}\u0000${typeof r.id}:${r.id}`
  return mapCache(new Map(), {
    async load(key) {
      let text
      try {
        text = await readFile(file(key), 'utf8')
      } catch {
        return undefined
      }
      try {
        const { meta, rows } = parse(text)
        if (meta.key !== key) return undefined // a hash collision: not ours
        return { meta, rows: new Map(rows().map((r) => [rowKey(r), r])) }
      } catch {
        return undefined // torn or foreign: as if absent
      }
    },
    async persist(key, entry) {
      if (!entry) return rm(file(key), { force: true })
      await mkdir(dir, { recursive: true })
      const tmp = `${file(key)}.${process.pid}.tmp`
      await writeFile(tmp, `${JSON.stringify(entry.meta)}\n${JSON.stringify([...entry.rows.values()])}`)
      await rename(tmp, file(key))
    },
    async list() {
      let names
      try {
        names = (await readdir(dir)).filter((n) => n.endsWith('.rows'))
      } catch {
        return []
      }
      const metas = []
      for (const name of names) {
        try {
          metas.push(parse(await readFile(join(dir, name), 'utf8')).meta)
        } catch {}
      }
      return metas
    },
  })
}
