// Run: node --test worker-shim/test/auth.test.js (Node 20). Real keys, real signatures.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createVerifier, AuthError, tokenFromRequest, signHs256 } from '../src/auth.js';

const { subtle } = globalThis.crypto;
const te = new TextEncoder();
const NOW = 1_800_000_000; // seconds; every verifier below runs on a fake clock
const SECRET = 'test-secret-that-is-at-least-32-bytes-long';
const JWKS_URL = 'https://id.example/.well-known/jwks.json';
// Put in every payload: no error message may ever show it.
const CANARY = 'leak-canary-7f3a';

const b64u = (bytes) => Buffer.from(bytes).toString('base64url');
const enc = (obj) => b64u(te.encode(JSON.stringify(obj)));
// A key set is accepted only with both checks configured: every JWKS verifier below has them.
const ISS = 'https://issuer.test';
const AUD = 'shoal-test';
const KEYSET = { issuer: ISS, audience: AUD };
const claims = (over = {}) => ({ sub: 'user-1', exp: NOW + 600, iss: ISS, aud: AUD, note: CANARY, ...over });

const SIGN = {
  HS256: 'HMAC',
  HS512: 'HMAC',
  RS256: 'RSASSA-PKCS1-v1_5',
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
};
async function sign(alg, key, payload, header = {}) {
  const input = `${enc({ alg, typ: 'JWT', ...header })}.${enc(payload)}`;
  const sig = await subtle.sign(SIGN[alg], key, te.encode(input));
  return `${input}.${b64u(new Uint8Array(sig))}`;
}

function clock() {
  const c = { ms: NOW * 1000, now: () => c.ms, advance: (sec) => { c.ms += sec * 1000; } };
  return c;
}

// Every rejection is checked for leaks, whatever the test is about.
async function rejects(promise, code, token) {
  const err = await promise.then(() => assert.fail(`expected ${code}`), (e) => e);
  assert.ok(err instanceof AuthError, `expected AuthError, got ${err}`);
  assert.equal(err.code, code, err.message);
  for (const text of [err.message, err.stack, JSON.stringify(err)]) {
    assert.ok(!text.includes(CANARY), `error text shows token content: ${err.message}`);
    if (typeof token === 'string' && token) {
      assert.ok(!text.includes(token), 'error text shows the token');
      for (const part of token.split('.').slice(1)) {
        if (part.length > 8) assert.ok(!text.includes(part), 'error text shows a token segment');
      }
    }
  }
  return err;
}
const verifyRejects = (verifier, token, code) => rejects(verifier.verify(token), code, token);

let hsKey, rsa, rsaOther, rsaNew, ec;

async function rsaPair(kid) {
  const k = await subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true, ['sign', 'verify']);
  return { key: k.privateKey, jwk: { ...(await subtle.exportKey('jwk', k.publicKey)), kid, use: 'sig' } };
}
async function ecPair(kid) {
  const k = await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  return { key: k.privateKey, jwk: { ...(await subtle.exportKey('jwk', k.publicKey)), kid } };
}

before(async () => {
  hsKey = await subtle.importKey('raw', te.encode(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  [rsa, rsaOther, rsaNew, ec] = await Promise.all([rsaPair('rsa-1'), rsaPair('rsa-1'), rsaPair('rsa-2'), ecPair('ec-1')]);
});

function jwksServer(keys) {
  const server = { keys, calls: 0, status: 200, gate: null };
  server.fetch = async (url) => {
    server.calls++;
    assert.equal(url, JWKS_URL);
    if (server.gate) await server.gate;
    return new Response(JSON.stringify({ keys: server.keys }), {
      status: server.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return server;
}

// --- valid tokens ---------------------------------------------------------

test('HS256: a valid token gives sub, exp, alg and only the forwarded claims', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, now: c.now, forwardClaims: ['role', 'org'] });
  const token = await sign('HS256', hsKey, claims({ role: 'admin', email: 'a@example.com' }));
  assert.deepEqual(await v.verify(token), { sub: 'user-1', exp: NOW + 600, alg: 'HS256', claims: { role: 'admin' } });
});

test('signHs256 produces a standard JWT that verifies', async () => {
  const token = await signHs256(claims(), SECRET);
  const [h, p, s] = token.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url')), { alg: 'HS256', typ: 'JWT' });
  const key = await subtle.importKey('raw', te.encode(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  assert.ok(await subtle.verify('HMAC', key, Buffer.from(s, 'base64url'), te.encode(`${h}.${p}`)));
  const c = clock();
  assert.equal((await createVerifier({ secret: SECRET, now: c.now }).verify(token)).sub, 'user-1');
});

test('RS256 and ES256: valid tokens verify against an inline JWKS, by kid', async () => {
  const c = clock();
  const v = createVerifier({ ...KEYSET, jwks: { keys: [rsa.jwk, rsaNew.jwk, ec.jwk] }, now: c.now });
  const rs = await sign('RS256', rsaNew.key, claims({ sub: 'rs' }), { kid: 'rsa-2' });
  const es = await sign('ES256', ec.key, claims({ sub: 'es' }), { kid: 'ec-1' });
  assert.equal(Buffer.from(es.split('.')[2], 'base64url').length, 64, 'ES256 signature is raw r||s');
  assert.equal((await v.verify(rs)).sub, 'rs');
  assert.equal((await v.verify(es)).sub, 'es');
});

test('without a kid, the only key of the right type is used; ambiguity is NO_KEY', async () => {
  const c = clock();
  const token = await sign('RS256', rsa.key, claims());
  const { kid, ...noKid } = rsa.jwk;
  const one = createVerifier({ ...KEYSET, jwks: { keys: [noKid, ec.jwk] }, now: c.now });
  assert.equal((await one.verify(token)).sub, 'user-1');
  const two = createVerifier({ ...KEYSET, jwks: { keys: [noKid, rsaNew.jwk] }, now: c.now });
  await verifyRejects(two, token, 'NO_KEY');
  const unknownKid = await sign('RS256', rsa.key, claims(), { kid: 'nope' });
  await verifyRejects(one, unknownKid, 'NO_KEY');
});

// --- JWKS over fetch ------------------------------------------------------

test('JWKS: fetched once, cached for jwksCacheMs, then fetched again', async () => {
  const c = clock();
  const server = jwksServer([rsa.jwk]);
  const v = createVerifier({ ...KEYSET, jwksUrl: JWKS_URL, fetch: server.fetch, jwksCacheMs: 60000, now: c.now });
  const token = await sign('RS256', rsa.key, claims({ exp: NOW + 3600 }), { kid: 'rsa-1' });
  assert.equal(server.calls, 0, 'fetched on demand, not at creation');
  for (let i = 0; i < 3; i++) await v.verify(token);
  assert.equal(server.calls, 1);
  c.advance(59);
  await v.verify(token);
  assert.equal(server.calls, 1);
  c.advance(2);
  await v.verify(token);
  assert.equal(server.calls, 2);
});

test('JWKS: an unknown kid refetches once (rotation), then is rate limited', async () => {
  const c = clock();
  const server = jwksServer([rsa.jwk]);
  const v = createVerifier({ ...KEYSET, jwksUrl: JWKS_URL, fetch: server.fetch, now: c.now });
  await v.verify(await sign('RS256', rsa.key, claims(), { kid: 'rsa-1' }));
  assert.equal(server.calls, 1);

  server.keys = [rsa.jwk, rsaNew.jwk]; // the provider rotates
  c.advance(30);
  const rotated = await sign('RS256', rsaNew.key, claims({ sub: 'rotated' }), { kid: 'rsa-2' });
  assert.equal((await v.verify(rotated)).sub, 'rotated');
  assert.equal(server.calls, 2);

  c.advance(30);
  const unknown = await sign('RS256', rsaNew.key, claims(), { kid: 'rsa-9' });
  await verifyRejects(v, unknown, 'NO_KEY');
  assert.equal(server.calls, 3, 'exactly one refetch for an unknown kid');
  await verifyRejects(v, unknown, 'NO_KEY');
  assert.equal(server.calls, 3, 'a burst of unknown kids does not hammer the provider');
});

test('JWKS: concurrent verifications share one in-flight fetch', async () => {
  const c = clock();
  const server = jwksServer([ec.jwk]);
  let release;
  server.gate = new Promise((r) => { release = r; });
  const v = createVerifier({ ...KEYSET, jwksUrl: JWKS_URL, fetch: server.fetch, now: c.now });
  const tokens = await Promise.all([1, 2, 3, 4, 5].map((i) => sign('ES256', ec.key, claims({ sub: `u${i}` }), { kid: 'ec-1' })));
  const pending = Promise.all(tokens.map((t) => v.verify(t)));
  await new Promise((r) => setImmediate(r));
  assert.equal(server.calls, 1);
  release();
  assert.deepEqual((await pending).map((id) => id.sub), ['u1', 'u2', 'u3', 'u4', 'u5']);
  assert.equal(server.calls, 1);

  // With caching off every verification wants a fetch: only sharing keeps it to one.
  const uncached = jwksServer([ec.jwk]);
  const v0 = createVerifier({ ...KEYSET, jwksUrl: JWKS_URL, fetch: uncached.fetch, jwksCacheMs: 0, now: c.now });
  assert.equal((await Promise.all(tokens.map((t) => v0.verify(t)))).length, 5);
  assert.equal(uncached.calls, 1);
  await v0.verify(tokens[0]);
  assert.equal(uncached.calls, 2, 'jwksCacheMs: 0 really does not cache');
});

test('JWKS: an unreachable set is NO_KEY; a failed refresh keeps the old keys', async () => {
  const c = clock();
  const token = await sign('RS256', rsa.key, claims({ exp: NOW + 3600 }), { kid: 'rsa-1' });
  const down = jwksServer([rsa.jwk]);
  down.status = 503;
  await verifyRejects(createVerifier({ ...KEYSET, jwksUrl: JWKS_URL, fetch: down.fetch, now: c.now }), token, 'NO_KEY');

  const flaky = jwksServer([rsa.jwk]);
  const v = createVerifier({ ...KEYSET, jwksUrl: JWKS_URL, fetch: flaky.fetch, jwksCacheMs: 60000, now: c.now });
  await v.verify(token);
  flaky.status = 500;
  c.advance(120);
  assert.equal((await v.verify(token)).sub, 'user-1');
  assert.equal(flaky.calls, 2, 'the refresh was attempted');
});

// --- time -----------------------------------------------------------------

test('exp: expired tokens are refused, within clock skew they pass', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, now: c.now });
  await verifyRejects(v, await sign('HS256', hsKey, claims({ exp: NOW - 120 })), 'EXPIRED');
  await verifyRejects(v, await sign('HS256', hsKey, claims({ exp: NOW - 60 })), 'EXPIRED');
  const late = await sign('HS256', hsKey, claims({ exp: NOW - 59 }));
  assert.equal((await v.verify(late)).exp, NOW - 59, 'default skew is 60 s');
  const strict = createVerifier({ secret: SECRET, clockSkewSec: 0, now: c.now });
  await verifyRejects(strict, late, 'EXPIRED');
  await verifyRejects(strict, await sign('HS256', hsKey, claims({ exp: NOW })), 'EXPIRED');
});

test('nbf: a token from the future is refused, within clock skew it passes', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, now: c.now });
  await verifyRejects(v, await sign('HS256', hsKey, claims({ nbf: NOW + 120 })), 'NOT_YET_VALID');
  const soon = await sign('HS256', hsKey, claims({ nbf: NOW + 30 }));
  assert.equal((await v.verify(soon)).sub, 'user-1');
  await verifyRejects(createVerifier({ secret: SECRET, clockSkewSec: 0, now: c.now }), soon, 'NOT_YET_VALID');
  await verifyRejects(v, await sign('HS256', hsKey, claims({ nbf: 'soon' })), 'MALFORMED');
});

// --- algorithms and signatures -------------------------------------------

// Both key sources configured, so that only the algorithm list can refuse these.
const anyKey = (c) => createVerifier({ ...KEYSET, secret: SECRET, jwks: { keys: [rsa.jwk, ec.jwk] }, now: c.now });

test('alg none is refused, in any spelling and with any signature', async () => {
  const c = clock();
  const v = anyKey(c);
  for (const alg of ['none', 'None', 'NONE']) {
    await verifyRejects(v, `${enc({ alg, typ: 'JWT' })}.${enc(claims())}.`, 'BAD_ALG');
  }
  await verifyRejects(v, `${enc({ typ: 'JWT' })}.${enc(claims())}.`, 'BAD_ALG');
  await verifyRejects(v, `${enc({ alg: ['HS256'] })}.${enc(claims())}.`, 'BAD_ALG');
});

test('HS512 is refused even with the right secret', async () => {
  const c = clock();
  const key512 = await subtle.importKey('raw', te.encode(SECRET), { name: 'HMAC', hash: 'SHA-512' }, false, ['sign']);
  await verifyRejects(anyKey(c), await sign('HS512', key512, claims()), 'BAD_ALG');
});

test('an algorithm the config has no key source for is BAD_ALG (no HS256/RS256 confusion)', async () => {
  const c = clock();
  const onlyJwks = createVerifier({ ...KEYSET, jwks: { keys: [rsa.jwk] }, now: c.now });
  await verifyRejects(onlyJwks, await sign('HS256', hsKey, claims()), 'BAD_ALG');
  const onlySecret = createVerifier({ secret: SECRET, now: c.now });
  await verifyRejects(onlySecret, await sign('RS256', rsa.key, claims(), { kid: 'rsa-1' }), 'BAD_ALG');
});

test('forged signatures are refused', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, now: c.now });
  const [h, , s] = (await sign('HS256', hsKey, claims())).split('.');
  await verifyRejects(v, `${h}.${enc(claims({ sub: 'admin' }))}.${s}`, 'BAD_SIGNATURE');

  const ev = createVerifier({ ...KEYSET, jwks: { keys: [ec.jwk] }, now: c.now });
  const es = await sign('ES256', ec.key, claims(), { kid: 'ec-1' });
  const sig = Buffer.from(es.split('.')[2], 'base64url');
  sig[10] ^= 1;
  const [eh, ep] = es.split('.');
  await verifyRejects(ev, `${eh}.${ep}.${b64u(sig)}`, 'BAD_SIGNATURE');
  // A DER-encoded (72-byte) signature is not a JWT ES256 signature.
  await verifyRejects(ev, `${eh}.${ep}.${b64u(new Uint8Array(72))}`, 'BAD_SIGNATURE');
  await verifyRejects(v, `${h}.${enc(claims())}.`, 'BAD_SIGNATURE');
});

test('a token signed with the wrong key is refused', async () => {
  const c = clock();
  const otherHs = await subtle.importKey('raw', te.encode('another-secret'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  await verifyRejects(createVerifier({ secret: SECRET, now: c.now }), await sign('HS256', otherHs, claims()), 'BAD_SIGNATURE');
  // Same kid, different private key.
  const v = createVerifier({ ...KEYSET, jwks: { keys: [rsa.jwk] }, now: c.now });
  await verifyRejects(v, await sign('RS256', rsaOther.key, claims(), { kid: 'rsa-1' }), 'BAD_SIGNATURE');
});

// --- iss / aud / required claims -----------------------------------------

test('iss is checked when configured', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, issuer: 'https://id.example', now: c.now });
  assert.equal((await v.verify(await sign('HS256', hsKey, claims({ iss: 'https://id.example' })))).sub, 'user-1');
  await verifyRejects(v, await sign('HS256', hsKey, claims({ iss: 'https://evil.example' })), 'BAD_ISSUER');
  await verifyRejects(v, await sign('HS256', hsKey, claims()), 'BAD_ISSUER');
});

test('aud is checked when configured, as a string or an array on either side', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, audience: 'shoal', now: c.now });
  assert.equal((await v.verify(await sign('HS256', hsKey, claims({ aud: 'shoal' })))).sub, 'user-1');
  assert.equal((await v.verify(await sign('HS256', hsKey, claims({ aud: ['billing', 'shoal'] })))).sub, 'user-1');
  await verifyRejects(v, await sign('HS256', hsKey, claims({ aud: 'billing' })), 'BAD_AUDIENCE');
  await verifyRejects(v, await sign('HS256', hsKey, claims({ aud: ['billing'] })), 'BAD_AUDIENCE');
  await verifyRejects(v, await sign('HS256', hsKey, claims()), 'BAD_AUDIENCE');
  const multi = createVerifier({ secret: SECRET, audience: ['web', 'shoal'], now: c.now });
  assert.equal((await multi.verify(await sign('HS256', hsKey, claims({ aud: 'shoal' })))).sub, 'user-1');
});

test('sub and exp are required', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, now: c.now });
  for (const over of [{ sub: undefined }, { sub: '' }, { sub: 42 }, { exp: undefined }, { exp: String(NOW + 600) }]) {
    await verifyRejects(v, await sign('HS256', hsKey, claims(over)), 'MISSING_CLAIM');
  }
});

// --- malformed tokens -----------------------------------------------------

test('malformed base64url is refused, including non-canonical spellings', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, now: c.now });
  const token = await sign('HS256', hsKey, claims());
  const [h, p, s] = token.split('.');
  await verifyRejects(v, `${h}!.${p}.${s}`, 'MALFORMED');
  await verifyRejects(v, `${h}.${p}.${s}=`, 'MALFORMED');
  await verifyRejects(v, `${h}.${p.slice(0, -2)}+/.${s}`, 'MALFORMED'); // plain base64, not base64url
  await verifyRejects(v, `${h}.${p}.${s}AA`, 'MALFORMED'); // 45 chars: length % 4 == 1 encodes no whole byte
  // 43 chars carry 258 bits for a 32-byte HMAC: the last 2 bits must be zero.
  // A lenient decoder would map this variant to the same bytes and accept it.
  const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const variant = s.slice(0, -1) + last[last.indexOf(s.at(-1)) ^ 1];
  await verifyRejects(v, `${h}.${p}.${variant}`, 'MALFORMED');
  assert.equal((await v.verify(token)).sub, 'user-1', 'the canonical token still passes');
});

test('tokens that are not three JSON parts are MALFORMED; none at all is MISSING', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, now: c.now });
  const [h, p, s] = (await sign('HS256', hsKey, claims())).split('.');
  await verifyRejects(v, `${h}.${p}`, 'MALFORMED');
  await verifyRejects(v, `${h}.${p}.${s}.${s}`, 'MALFORMED');
  await verifyRejects(v, `${enc([1])}.${p}.${s}`, 'MALFORMED');
  await verifyRejects(v, `${b64u(Buffer.from([0xff, 0xfe]))}.${p}.${s}`, 'MALFORMED');
  await verifyRejects(v, `${h}.${b64u(te.encode('null'))}.${s}`, 'MALFORMED');
  await verifyRejects(v, 'x'.repeat(20000), 'MALFORMED');
  for (const missing of ['', null, undefined]) await rejects(v.verify(missing), 'MISSING');
});

test('a "crit" header or a non-string kid is refused', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, now: c.now });
  await verifyRejects(v, await sign('HS256', hsKey, claims(), { crit: ['exp'], exp: 1 }), 'MALFORMED');
  await verifyRejects(v, await sign('HS256', hsKey, claims(), { kid: 7 }), 'MALFORMED');
});

test('error messages never contain the token or what it decodes to', async () => {
  const c = clock();
  const v = createVerifier({ secret: SECRET, issuer: 'iss', audience: 'aud', now: c.now });
  const good = await sign('HS256', hsKey, claims({ iss: 'iss', aud: 'aud' }));
  const [h, p, s] = good.split('.');
  // V8's JSON.parse errors quote (the start of) their input.
  const badJson = b64u(te.encode(CANARY));
  const bad = [
    [`${badJson}.${p}.${s}`, 'MALFORMED'],
    [`${h}.${badJson}.${s}`, 'MALFORMED'],
    [`${enc({ alg: CANARY })}.${p}.${s}`, 'BAD_ALG'],
    [`${h}.${enc(claims({ sub: CANARY, iss: 'iss', aud: 'aud' }))}.${s}`, 'BAD_SIGNATURE'],
    [await sign('HS256', hsKey, claims({ iss: CANARY, aud: 'aud' })), 'BAD_ISSUER'],
    [await sign('HS256', hsKey, claims({ iss: 'iss', aud: CANARY })), 'BAD_AUDIENCE'],
    [await sign('HS256', hsKey, claims({ iss: 'iss', aud: 'aud', exp: NOW - 3600 })), 'EXPIRED'],
    [`${h}.${p}`, 'MALFORMED'],
  ];
  for (const [token, code] of bad) {
    const err = await verifyRejects(v, token, code); // asserts no token, no segment, no canary
    assert.ok(!String(err.cause ?? '').includes(CANARY));
  }
  const kidVerifier = createVerifier({ ...KEYSET, jwks: { keys: [rsa.jwk] }, now: c.now });
  await verifyRejects(kidVerifier, await sign('RS256', rsa.key, claims(), { kid: CANARY }), 'NO_KEY');
});

// --- requests and config --------------------------------------------------

test('tokenFromRequest reads the Bearer header and the shoal-auth subprotocol', () => {
  const req = (headers) => new Request('https://sync.example/sync?v=1', { headers });
  assert.equal(tokenFromRequest(req({ Authorization: 'Bearer aaa.bbb.ccc' })), 'aaa.bbb.ccc');
  assert.equal(tokenFromRequest(req({ authorization: 'bearer aaa.bbb.ccc' })), 'aaa.bbb.ccc');
  assert.equal(tokenFromRequest(req({ 'Sec-WebSocket-Protocol': 'shoal-v1, shoal-auth.aaa.bbb.ccc' })), 'aaa.bbb.ccc');
  assert.equal(tokenFromRequest(req({ 'Sec-WebSocket-Protocol': 'shoal-auth.x.y.z,shoal-v1' })), 'x.y.z');
  assert.equal(tokenFromRequest(req({ 'Sec-WebSocket-Protocol': 'shoal-v1' })), null);
  assert.equal(tokenFromRequest(req({ 'Sec-WebSocket-Protocol': 'shoal-v1, shoal-auth.' })), null);
  assert.equal(tokenFromRequest(req({ Authorization: 'Basic dXNlcjpwdw==' })), null);
  assert.equal(tokenFromRequest(req({})), null);
});

test('a token from the subprotocol verifies end to end', async () => {
  const c = clock();
  const token = await signHs256(claims({ sub: 'ws-user' }), SECRET);
  const request = new Request('https://sync.example/sync?v=1', {
    headers: { 'Sec-WebSocket-Protocol': `shoal-v1, shoal-auth.${token}` },
  });
  assert.equal((await createVerifier({ secret: SECRET, now: c.now }).verify(tokenFromRequest(request))).sub, 'ws-user');
});

test('createVerifier refuses configs that cannot verify anything or exceed the protocol', () => {
  assert.throws(() => createVerifier({}), TypeError);
  assert.throws(() => createVerifier({ secret: '' }), TypeError);
  assert.throws(() => createVerifier({ ...KEYSET, jwks: { keys: [] }, jwksUrl: JWKS_URL, ...KEYSET }), TypeError);
  assert.throws(() => createVerifier({ secret: SECRET, clockSkewSec: 120 }), RangeError);
  assert.throws(() => createVerifier({ secret: SECRET, clockSkewSec: '30' }), RangeError);
  assert.doesNotThrow(() => createVerifier({ secret: SECRET, clockSkewSec: 0 }));
});

test('a key set is refused without both issuer and audience: a shared one would let other projects in', async () => {
  for (const source of [{ jwks: { keys: [rsa.jwk] } }, { jwksUrl: JWKS_URL }]) {
    assert.throws(() => createVerifier({ ...source }), /needs both issuer and audience/);
    assert.throws(() => createVerifier({ ...source, issuer: ISS }), /needs both issuer and audience/);
    assert.throws(() => createVerifier({ ...source, audience: AUD }), /needs both issuer and audience/);
    assert.throws(() => createVerifier({ ...source, issuer: '', audience: AUD }), TypeError);
    assert.throws(() => createVerifier({ ...source, issuer: ISS, audience: '' }), TypeError);
  }
  // With both, a token of the same key set minted for another project is refused.
  const c = clock();
  const v = createVerifier({ ...KEYSET, jwks: { keys: [rsa.jwk] }, now: c.now });
  assert.equal((await v.verify(await sign('RS256', rsa.key, claims(), { kid: 'rsa-1' }))).sub, 'user-1');
  await verifyRejects(v, await sign('RS256', rsa.key, claims({ aud: 'other-project' }), { kid: 'rsa-1' }), 'BAD_AUDIENCE');
  await verifyRejects(v, await sign('RS256', rsa.key, claims({ iss: 'https://other.example' }), { kid: 'rsa-1' }), 'BAD_ISSUER');
  // A secret alone needs neither: it is this deployment's own.
  assert.doesNotThrow(() => createVerifier({ secret: SECRET }));
});

test('verify reports the algorithm that signed the token', async () => {
  const c = clock();
  const v = createVerifier({ ...KEYSET, secret: SECRET, jwks: { keys: [rsa.jwk] }, now: c.now });
  assert.equal((await v.verify(await sign('HS256', hsKey, claims()))).alg, 'HS256');
  assert.equal((await v.verify(await sign('RS256', rsa.key, claims(), { kid: 'rsa-1' }))).alg, 'RS256');
});
