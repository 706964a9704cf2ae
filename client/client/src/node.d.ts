import type { OutboxStorage } from './index.js'
/** Outboxes as JSON files in `dir`, one per client id (one process per directory). */
export declare function fileStorage(dir: string): OutboxStorage
