// Tokens against the real worker in workerd: HS256 and JWKS (RS256, ES256,
// served by this test over HTTP on 127.0.0.1) accepted; expired, forged,
// alg none, wrong audience and wrong issuer refused with 401 before any
// upgrade; expiry on an open socket; anonymous access only through minted tokens.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startWorker, DEV_SECRET } from "../lib/worker.js";
import { connect, upgrade as upgradeUrl } from "../lib/socket.js";
import { signHs256 } from "@shoal/worker/auth";

const { subtle } = globalThis.crypto;
const te = new TextEncoder();
const b64u = (bytes) => Buffer.from(bytes).toString("base64url");
const enc = (obj) => b64u(te.encode(JSON.stringify(obj)));
const nowSec = () => Math.floor(Date.now() / 1000);
const AUDIENCE = "shoal-test";
const ISSUER = "https://id.test";

const SIGN = { RS256: "RSASSA-PKCS1-v1_5", ES256: { name: "ECDSA", hash: "SHA-256" } };

async function sign(alg, key, payload, header = {}) {
  const input = `${enc({ alg, typ: "JWT", ...header })}.${enc(payload)}`;
  const sig = await subtle.sign(SIGN[alg], key, te.encode(input));
  return `${input}.${b64u(new Uint8Array(sig))}`;
}

const claims = (sub, over = {}) => ({ sub, exp: nowSec() + 600, aud: AUDIENCE, iss: ISSUER, ...over });

let jwksServer;
let jwksRequests = 0;
let keys; // { rs, es, rsOther }
let worker; // HS256 + JWKS, audience and issuer checked
let plain; // the default harness worker: HS256 only, no audience

before(async () => {
  const rsa = { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  keys = {
    rs: await subtle.generateKey(rsa, true, ["sign", "verify"]),
    rsOther: await subtle.generateKey(rsa, true, ["sign", "verify"]),
    es: await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]),
  };
  const jwks = {
    keys: [
      { ...(await subtle.exportKey("jwk", keys.rs.publicKey)), kid: "rs1", alg: "RS256", use: "sig" },
      { ...(await subtle.exportKey("jwk", keys.es.publicKey)), kid: "es1", alg: "ES256", use: "sig" },
    ],
  };
  jwksServer = http.createServer((req, res) => {
    jwksRequests++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(jwks));
  });
  await new Promise((r) => jwksServer.listen(0, "127.0.0.1", r));
  worker = await startWorker({
    bindings: {
      SHOAL_JWKS_URL: `http://127.0.0.1:${jwksServer.address().port}/.well-known/jwks.json`,
      SHOAL_JWT_AUDIENCE: `other-app, ${AUDIENCE}`,
      SHOAL_JWT_ISSUER: ISSUER,
      SHOAL_FORWARD_CLAIMS: "role",
    },
  });
  plain = await startWorker();
});

after(async () => {
  await worker?.stop();
  await plain?.stop();
  jwksServer?.close();
});

/** {status, body} of a refused upgrade to worker `w`, or {status: 101}. */
const upgrade = (w, headers = {}, protocols) => upgradeUrl(`${w.wsUrl}/sync?client=c1&v=1`, headers, protocols);

const bearer = (token) => ({ authorization: `Bearer ${token}` });

/** Connects with `token` and proves the identity: a channel created through it (on its own shard) is created by `sub`. */
async function identityOf(w, token, client) {
  const s = await connect(w, { token, client, shard: `ch-${client}` });
  await s.type("connected");
  s.send({ type: "push", mutations: [{ id: 1, name: "createChannel", args: { id: `ch-${client}`, name: client } }] });
  assert.equal((await s.type("pushResult")).results[0].status, "ok");
  await s.poke();
  s.send({ type: "push", mutations: [{ id: 2, name: "sendMessage", args: { id: `m-${client}`, channelId: `ch-${client}`, text: "hi" } }] });
  await s.type("pushResult");
  s.send({ type: "subscribe", id: "m", shape: "messagesByChannel", args: { channelId: `ch-${client}` } });
  let rows = [];
  while (rows.length === 0) rows = (await s.poke()).rows;
  await s.close();
  return rows[0].doc.authorId;
}

test("HS256, RS256 and ES256 tokens are accepted, and the row's author is the token's sub", async () => {
  const hs = await signHs256(claims("hs-user"), DEV_SECRET);
  assert.equal(await identityOf(worker, hs, "hs1"), "hs-user");
  const rs = await sign("RS256", keys.rs.privateKey, claims("rs-user"), { kid: "rs1" });
  assert.equal(await identityOf(worker, rs, "rs1"), "rs-user");
  const es = await sign("ES256", keys.es.privateKey, claims("es-user"), { kid: "es1" });
  assert.equal(await identityOf(worker, es, "es1"), "es-user");
  // Without a kid, the only key of the right type is chosen.
  const esNoKid = await sign("ES256", keys.es.privateKey, claims("es-user2"));
  assert.equal((await upgrade(worker, bearer(esNoKid))).status, 101);
  assert.ok(jwksRequests >= 1 && jwksRequests <= 2, `the JWKS is fetched once and cached (${jwksRequests} fetches)`);
});

test("the token rides in the subprotocol for browsers, and the server selects shoal-v1", async () => {
  const rs = await sign("RS256", keys.rs.privateKey, claims("browser-user"), { kid: "rs1" });
  const s = await connect(worker, { token: rs, client: "sp1", subprotocol: true });
  assert.equal(s.ws.protocol, "shoal-v1");
  await s.type("connected");
  await s.close();
});

test("expired, forged, alg none, wrong audience, wrong issuer and missing tokens get 401", async () => {
  const t = nowSec();
  const refused = {
    // 60 s of clock skew are allowed: expired means longer ago than that.
    expired: await sign("RS256", keys.rs.privateKey, claims("u", { exp: t - 120 }), { kid: "rs1" }),
    "forged (signed by a key not in the JWKS, under its kid)": await sign("RS256", keys.rsOther.privateKey, claims("u"), { kid: "rs1" }),
    "forged (payload swapped after signing)": await (async () => {
      const [h, , s] = (await sign("ES256", keys.es.privateKey, claims("u"), { kid: "es1" })).split(".");
      return `${h}.${enc(claims("admin"))}.${s}`;
    })(),
    "forged (HS256 with another secret)": await signHs256(claims("u"), "not-the-secret-0123456789abcdef0123"),
    "alg none": `${enc({ alg: "none", typ: "JWT" })}.${enc(claims("u"))}.`,
    "alg none with a signature": `${enc({ alg: "none", typ: "JWT" })}.${enc(claims("u"))}.${b64u(te.encode("x"))}`,
    "wrong audience": await sign("RS256", keys.rs.privateKey, claims("u", { aud: "someone-else" }), { kid: "rs1" }),
    "no audience": await sign("RS256", keys.rs.privateKey, claims("u", { aud: undefined }), { kid: "rs1" }),
    "wrong issuer": await sign("ES256", keys.es.privateKey, claims("u", { iss: "https://evil.test" }), { kid: "es1" }),
    "unknown kid": await sign("ES256", keys.es.privateKey, claims("u"), { kid: "nope" }),
    "no exp": await sign("RS256", keys.rs.privateKey, claims("u", { exp: undefined }), { kid: "rs1" }),
    "not a JWT": "not-a-jwt",
    // Valid tokens, but an identity with control characters cannot travel to the object.
    "sub with U+0000": await signHs256(claims("bob\u0000x"), DEV_SECRET),
    "sub with a newline": await signHs256(claims("bob\nx"), DEV_SECRET),
  };
  for (const [what, token] of Object.entries(refused)) {
    const res = await upgrade(worker, bearer(token));
    assert.equal(res.status, 401, what);
    assert.ok(!res.body.includes(token.split(".")[1] ?? token), `${what}: the 401 does not echo the token`);
    const viaSubprotocol = await upgrade(worker, {}, ["shoal-v1", `shoal-auth.${token}`]);
    assert.equal(viaSubprotocol.status, 401, `${what} (subprotocol)`);
  }
  assert.equal((await upgrade(worker)).status, 401, "no token at all");
  // An RS256 token where only a secret is configured is refused: no key for it.
  const rs = await sign("RS256", keys.rs.privateKey, claims("u"), { kid: "rs1" });
  assert.equal((await upgrade(plain, bearer(rs))).status, 401);
});

test("a token that expires on an open socket gets TOKEN_EXPIRED and close 4001 on the next frame", async (t) => {
  // No clock skew, so the test need not wait the default 60 s of leeway past exp.
  const strict = await startWorker({ bindings: { SHOAL_CLOCK_SKEW_SEC: "0" } });
  t.after(() => strict.stop());
  const token = await signHs256({ sub: "brief", exp: nowSec() + 2 }, DEV_SECRET);
  const s = await connect(strict, { token, client: "brief1", shard: "ch-brief" });
  await s.type("connected");
  s.send({ type: "subscribe", id: "c", shape: "channel", args: { id: "ch-brief" } });
  await s.poke();
  await new Promise((r) => setTimeout(r, 3100));
  assert.equal(s.closed, null, "nothing happens while the socket is quiet");
  s.send({ type: "push", mutations: [{ id: 1, name: "createChannel", args: { id: "ch-brief", name: "late" } }] });
  const e = await s.type("error");
  assert.equal(e.code, "TOKEN_EXPIRED");
  for (let i = 0; i < 100 && !s.closed; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(s.closed?.code, 4001);
  assert.equal(s.all((f) => f.type === "pushResult").length, 0, "the frame was not run");

  // The same client reconnects with a fresh token: its mutation 1 was never applied.
  const again = await connect(strict, { sub: "brief", client: "brief1", shard: "ch-brief" });
  assert.equal((await again.type("connected")).lastMutationId, 0);
  await again.close();
});

test("without SHOAL_ALLOW_ANONYMOUS a request without a token is 401", async () => {
  assert.equal((await upgrade(plain)).status, 401);
});

test("with SHOAL_ALLOW_ANONYMOUS=true a request without a token is still 401 (worker-shim/test/identity.test.js has the rest); a bad token is 401", async () => {
  const anon = await startWorker({ bindings: { SHOAL_ALLOW_ANONYMOUS: "true" } });
  try {
    const empty = await connect(anon, { token: "", client: "guest8" }).catch((e) => e);
    assert.equal(empty.status, 401, "an empty bearer is a bad token, not an anonymous request");
    assert.equal((await upgrade(anon)).status, 401, "a client id is no identity: anonymous users present a minted token");
    assert.equal((await upgrade(anon, bearer("garbage"))).status, 401, "a bad token is refused, not downgraded");
    const spoof = await signHs256({ sub: "anon:guest9", exp: nowSec() + 600 }, "not-the-worker-secret-0123456789abcdef");
    assert.equal((await upgrade(anon, bearer(spoof))).status, 401, "no token from elsewhere may claim an anonymous identity");
    const real = await signHs256({ sub: "registered", exp: nowSec() + 600 }, DEV_SECRET);
    assert.equal(await identityOf(anon, real, "reg1"), "registered", "tokens still work");
  } finally {
    await anon.stop();
  }
});

test("a token within the clock skew past exp connects and keeps working: the shard grants the same leeway", async () => {
  const token = await signHs256({ sub: "skewed", exp: nowSec() - 30 }, DEV_SECRET);
  const s = await connect(plain, { token, client: "skew1", shard: "skew" });
  await s.type("connected");
  s.send({ type: "subscribe", id: "c", shape: "channel", args: { id: "skew" } });
  const poke = await s.poke();
  assert.equal(poke.parts[0].reset, true);
  assert.equal(s.all((f) => f.type === "error").length, 0, "not TOKEN_EXPIRED at once");
  await s.close();
});
