// The Worker entry: Shoal's Worker and shard Durable Object, bound to this app's engine
// (build/engine.js: the Shoal engine and TodoApp, compiled by TeaVM in `mvn package`).
import { ShardObject } from "../build/engine.js";
import { shoal } from "@shoal/worker";

const app = shoal({ engine: ShardObject });
export default app.worker;
export const ShardDO = app.ShardDO;
