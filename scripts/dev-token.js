// Prints a development token for the example app: `node scripts/dev-token.js alice [ttlSeconds]`.
// Signs with SHOAL_JWT_SECRET from .dev.vars (the committed development-only secret).
import { readFileSync } from "node:fs";
import { signHs256 } from "@shoal/worker/auth";

const sub = process.argv[2] ?? "alice";
const ttl = Number(process.argv[3] ?? 24 * 3600);
const vars = readFileSync(new URL("../.dev.vars", import.meta.url), "utf8");
const secret = process.env.SHOAL_JWT_SECRET ?? /^SHOAL_JWT_SECRET=(.*)$/m.exec(vars)?.[1];
if (!secret) throw new Error("SHOAL_JWT_SECRET is neither in the environment nor in .dev.vars");
console.log(await signHs256({ sub, exp: Math.floor(Date.now() / 1000) + ttl }, secret));
