import type { DurableObject } from "cloudflare:workers";

/** The class exported as `ShardObject` by an app's compiled engine (build/engine.js, built by `mvn package`). */
export interface EngineClass {
  new (storage: unknown, peers: unknown, shardName: string | null, limits: unknown): unknown;
}

export interface ShoalOptions {
  /** The `ShardObject` export of the app's build/engine.js. */
  engine: EngineClass;
  /**
   * The app's own routes: called for every request other than /sync, /anonymous and /dev/token. Return a
   * Response, or undefined to let Shoal answer (GET / is 200, anything else 404).
   */
  fetch?: (request: Request, env: Record<string, unknown>, ctx: unknown) => Response | undefined | Promise<Response | undefined>;
}

export interface ShoalApp {
  /** The Worker: `export default app.worker`. */
  worker: { fetch(request: Request, env: Record<string, unknown>, ctx: unknown): Promise<Response> };
  /** The shard Durable Object class: `export const ShardDO = app.ShardDO`, bound as SHARD in wrangler.toml. */
  ShardDO: typeof DurableObject;
}

/** The Worker and the Durable Object class for an app's engine (docs/getting-started.md). */
export declare function shoal(options: ShoalOptions): ShoalApp;

export { AuthError, signHs256, createVerifier } from "./auth.js";
