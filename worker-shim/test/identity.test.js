// The Worker's identity rules, against the real worker in workerd (Miniflare):
// a key set (SHOAL_JWKS_URL) is refused without both issuer and audience, and
// anonymous identities come from a token the Worker mints (POST /anonymous),
// never from the client id in the URL. Run: node --test worker-shim/test/identity.test.js
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "../../test-harness/lib/worker.js";
import { connect, upgrade as upgradeUrl } from "../../test-harness/lib/socket.js";
import { signHs256 } from "../src/auth.js";

const nowSec = () => Math.floor(Date.now() / 1000);
const upgrade = (w, headers = {}, client = "c1") => upgradeUrl(`${w.wsUrl}/sync?client=${client}&v=1`, headers);
const bearer = (token) => ({ authorization: `Bearer ${token}` });
const mint = (w, headers = {}) => fetch(`${w.url}/anonymous`, { method: "POST", headers });

let anon; // SHOAL_ALLOW_ANONYMOUS=true, HS256 secret
before(async () => {
  anon = await startWorker({ bindings: { SHOAL_ALLOW_ANONYMOUS: "true" } });
});
after(async () => {
  await anon?.stop();
});

/** Creates a channel and a message through `socket`, and returns the message's authorId: the socket's identity. */
async function identityOn(s, channel, firstId = 1) {
  await s.type("connected");
  s.send({ type: "push", mutations: [
    { id: firstId, name: "createChannel", args: { id: channel, name: channel } },
    { id: firstId + 1, name: "sendMessage", args: { id: `m-${channel}`, channelId: channel, text: "hi" } },
  ] });
  assert.deepEqual((await s.type("pushResult")).results.map((r) => r.status), ["ok", "ok"]);
  s.send({ type: "subscribe", id: "m", shape: "messagesByChannel", args: { channelId: channel } });
  let rows = [];
  while (rows.length === 0) rows = (await s.poke()).rows;
  return rows[0].doc.authorId;
}

test("SHOAL_JWKS_URL without SHOAL_JWT_ISSUER and SHOAL_JWT_AUDIENCE: the Worker refuses to serve, naming both", async () => {
  for (const extra of [{}, { SHOAL_JWT_ISSUER: "https://id.test" }, { SHOAL_JWT_AUDIENCE: "shoal" }]) {
    const w = await startWorker({ bindings: { SHOAL_JWKS_URL: "https://id.test/.well-known/jwks.json", ...extra } });
    try {
      // Even a token the deployment's own secret signed: the configuration as a whole is refused.
      const r = await upgrade(w, bearer(await w.token("alice")));
      assert.equal(r.status, 500, JSON.stringify(extra));
      assert.match(r.body, /SHOAL_JWKS_URL needs SHOAL_JWT_ISSUER and SHOAL_JWT_AUDIENCE/);
    } finally {
      await w.stop();
    }
  }
});

test("anonymous access: no credentials is 401; POST /anonymous mints a fresh secret identity each time", async () => {
  const none = await upgrade(anon, {});
  assert.equal(none.status, 401, "the client id in the URL is no identity");
  assert.match(none.body, /POST \/anonymous/);

  const a = await (await mint(anon)).json();
  const b = await (await mint(anon)).json();
  assert.match(a.sub, /^anon:[A-Za-z0-9_-]{22}$/, "128 random bits");
  assert.notEqual(a.sub, b.sub);
  assert.ok(a.exp > nowSec() + 24 * 3600, "long-lived: the client keeps it and renews it");
  assert.equal(await identityOn(await connect(anon, { token: a.token, client: "tab1", shard: "ch-anon-a" }), "ch-anon-a"), a.sub);
});

test("anonymous access: knowing a client id gives nothing; the token alone is the identity", async () => {
  const victim = await (await mint(anon)).json();
  const s = await connect(anon, { token: victim.token, client: "shared-client", shard: "ch-victim" });
  assert.equal(await identityOn(s, "ch-victim"), victim.sub);
  await s.close();

  // The attacker knows the victim's client id (it travels in the URL) but not the token.
  assert.equal((await upgrade(anon, {}, "shared-client")).status, 401);
  const attacker = await (await mint(anon)).json();
  // On the victim's shard, with the victim's client id, the attacker's counter is its own.
  const onVictims = await connect(anon, { token: attacker.token, client: "shared-client", shard: "ch-victim" });
  assert.equal((await onVictims.type("connected")).lastMutationId, 0, "the victim's ids are not the attacker's to consume");
  await onVictims.close();
  const t = await connect(anon, { token: attacker.token, client: "shared-client", shard: "ch-attacker" });
  assert.equal(await identityOn(t, "ch-attacker"), attacker.sub, "its mutations 1 and 2 ran as the attacker");
  await t.close();

  // A token that claims an anonymous identity without being minted here is refused.
  assert.equal((await upgrade(anon, bearer(await signHs256({ sub: victim.sub, exp: nowSec() + 600 }, "some-other-secret-0123456789abcdef")))).status, 401);
});

test("anonymous access: the token renews for the same identity; other tokens and bad ones are refused", async () => {
  const first = await (await mint(anon)).json();
  const renewed = await mint(anon, bearer(first.token));
  assert.equal(renewed.status, 200);
  const again = await renewed.json();
  assert.equal(again.sub, first.sub);
  assert.equal((await mint(anon, bearer(await anon.token("registered")))).status, 400, "a user's token is not turned anonymous");
  assert.equal((await mint(anon, bearer("garbage"))).status, 401);
  assert.equal((await fetch(`${anon.url}/anonymous`)).status, 405);
  // Registered users still sign in with their tokens.
  assert.equal(await identityOn(await connect(anon, { token: await anon.token("registered"), client: "reg", shard: "ch-registered" }), "ch-registered"), "registered");
});

test("beside a key set with issuer and audience, anonymous tokens carry both and are accepted", async () => {
  const w = await startWorker({ bindings: {
    SHOAL_ALLOW_ANONYMOUS: "true",
    SHOAL_JWKS_URL: "https://id.test/.well-known/jwks.json",
    SHOAL_JWT_ISSUER: "https://id.test",
    SHOAL_JWT_AUDIENCE: "shoal, other",
  } });
  try {
    const a = await (await mint(w)).json();
    const claims = JSON.parse(Buffer.from(a.token.split(".")[1], "base64url"));
    assert.equal(claims.iss, "https://id.test");
    assert.equal(claims.aud, "shoal");
    assert.equal(await identityOn(await connect(w, { token: a.token, client: "k1", shard: "ch-keyset" }), "ch-keyset"), a.sub);
    // A token of the deployment's secret without them is refused like any other.
    assert.equal((await upgrade(w, bearer(await w.token("no-aud")))).status, 401);
  } finally {
    await w.stop();
  }
});

test("without SHOAL_ALLOW_ANONYMOUS there is no /anonymous and an anonymous token is refused", async () => {
  const minted = await (await mint(anon)).json();
  const plain = await startWorker();
  try {
    assert.equal((await mint(plain)).status, 404);
    assert.equal((await upgrade(plain, bearer(minted.token))).status, 401, "anonymous access was turned off: its identities are gone");
    assert.equal((await upgrade(plain, {})).status, 401);
  } finally {
    await plain.stop();
  }
});

test("SHOAL_ALLOW_ANONYMOUS without SHOAL_JWT_SECRET is a configuration error", async () => {
  const w = await startWorker({ bindings: { SHOAL_ALLOW_ANONYMOUS: "true", SHOAL_JWT_SECRET: "" } });
  try {
    const r = await mint(w);
    assert.equal(r.status, 500);
    assert.match(await r.text(), /SHOAL_ALLOW_ANONYMOUS needs SHOAL_JWT_SECRET/);
    assert.equal((await upgrade(w, {})).status, 500);
  } finally {
    await w.stop();
  }
});

