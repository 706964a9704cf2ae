// The benchmarks' Worker entry: @shoal/worker around the bench app's engine (build/engine.js).
import { ShardObject } from "../build/engine.js";
import { shoal } from "@shoal/worker";

const app = shoal({ engine: ShardObject });
export default app.worker;
export const ShardDO = app.ShardDO;
