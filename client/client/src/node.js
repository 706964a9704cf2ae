// Node-only pieces, kept out of the main entry so browser bundles never see node:fs.

import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

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
  }
}
