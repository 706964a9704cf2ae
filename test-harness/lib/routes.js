// The example chat's routes (which shard serves each shape and mutator), read from the one place
// codegen writes them: examples/chat/web/src/shoal.gen.ts. For Node tests that drive the example
// with @shoal/client, which routes by itself once given them.
import { readFileSync } from "node:fs";

export function routesOf(genTsUrl) {
  const text = readFileSync(genTsUrl, "utf8");
  const body = /export const routes = (\{[\s\S]*?\n\}) as const;/.exec(text)?.[1];
  if (!body) throw new Error(`no routes in ${genTsUrl}`);
  // The generated object is JSON but for unquoted keys and trailing commas.
  return JSON.parse(body.replace(/([A-Za-z_$][\w$]*):/g, '"$1":').replace(/,(\s*[}\]])/g, "$1"));
}

export const CHAT_ROUTES = routesOf(new URL("../../examples/chat/web/src/shoal.gen.ts", import.meta.url));
