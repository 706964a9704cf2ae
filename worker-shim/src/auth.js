// JWT verification for the Worker, before a request reaches a Durable Object
// (PROTOCOL.md, "Transport"). WebCrypto only, so the same file runs in
// Workers and in Node 20 tests. No error message ever contains the token or
// anything decoded from it: errors end up in logs and in 401 bodies.

import { AUTH_SUBPROTOCOL_PREFIX as SUBPROTOCOL_PREFIX } from './wire.gen.js';

const ALGS = {
  HS256: { verify: 'HMAC' },
  RS256: {
    kty: 'RSA',
    import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    verify: 'RSASSA-PKCS1-v1_5',
  },
  ES256: {
    kty: 'EC',
    crv: 'P-256',
    import: { name: 'ECDSA', namedCurve: 'P-256' },
    verify: { name: 'ECDSA', hash: 'SHA-256' },
  },
};
const MAX_SKEW_SEC = 60; // the protocol's ceiling
const MAX_TOKEN_CHARS = 16384; // bounds the work an unauthenticated caller can ask for
const JWKS_TIMEOUT_MS = 5000;
// Unknown kids trigger a refetch; without a floor, garbage kids would let
// anyone make the Worker hammer the identity provider.
const JWKS_REFETCH_GAP_MS = 10000;

export class AuthError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'AuthError';
    this.code = code;
  }
}

function fail(code, message) {
  throw new AuthError(code, message);
}

const te = new TextEncoder();
// fatal: invalid UTF-8 is a malformed token, not something to patch with U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true });

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_VALUE = new Map([...B64URL].map((c, i) => [c, i]));

// Hand-written because atob accepts padding, whitespace and '+/' and would
// let several spellings of one token (or signature) pass.
function b64urlDecode(s) {
  if (s.length % 4 === 1) fail('MALFORMED', 'token is not valid base64url');
  const out = new Uint8Array((s.length * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of s) {
    const v = B64URL_VALUE.get(ch);
    if (v === undefined) fail('MALFORMED', 'token is not valid base64url');
    acc = ((acc << 6) | v) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Non-zero leftover bits would make the encoding non-canonical.
  if (acc & ((1 << bits) - 1)) fail('MALFORMED', 'token is not valid base64url');
  return out;
}

function b64urlEncode(bytes) {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function jsonSegment(segment, what) {
  const bytes = b64urlDecode(segment);
  let value;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    // The parser's message quotes the input: never pass it on.
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail('MALFORMED', `token ${what} is not a JSON object`);
  }
  return value;
}

function hmacKey(secret, usages) {
  return crypto.subtle.importKey('raw', te.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, usages);
}

export async function signHs256(payload, secret) {
  if (typeof secret !== 'string' || secret === '') throw new TypeError('signHs256 needs a non-empty secret');
  const part = (obj) => b64urlEncode(te.encode(JSON.stringify(obj)));
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}`;
  const sig = await crypto.subtle.sign('HMAC', await hmacKey(secret, ['sign']), te.encode(input));
  return `${input}.${b64urlEncode(new Uint8Array(sig))}`;
}

export function tokenFromRequest(request) {
  const auth = request.headers.get('authorization');
  const bearer = auth && /^Bearer +(\S+)$/i.exec(auth);
  if (bearer) return bearer[1];
  // Browsers cannot set headers on a WebSocket, so the token rides in the
  // subprotocol list next to "shoal-v1".
  for (const offered of (request.headers.get('sec-websocket-protocol') ?? '').split(',')) {
    const p = offered.trim();
    if (p.startsWith(SUBPROTOCOL_PREFIX) && p.length > SUBPROTOCOL_PREFIX.length) {
      return p.slice(SUBPROTOCOL_PREFIX.length);
    }
  }
  return null;
}

function checkConfig(config) {
  if (!config || typeof config !== 'object') throw new TypeError('createVerifier needs a config object');
  const { secret, jwks, jwksUrl, clockSkewSec = MAX_SKEW_SEC, jwksCacheMs = 300000 } = config;
  if (secret !== undefined && (typeof secret !== 'string' || secret === '')) {
    throw new TypeError('auth: secret must be a non-empty string');
  }
  if (jwksUrl !== undefined && (typeof jwksUrl !== 'string' || jwksUrl === '')) {
    throw new TypeError('auth: jwksUrl must be a URL string');
  }
  if (jwks !== undefined && jwksUrl !== undefined) throw new TypeError('auth: give jwks or jwksUrl, not both');
  if (jwks !== undefined && !Array.isArray(jwks?.keys)) throw new TypeError('auth: jwks must be {keys: [...]}');
  if (secret === undefined && jwks === undefined && jwksUrl === undefined) {
    throw new TypeError('auth: configure a secret, jwks or jwksUrl');
  }
  if (typeof clockSkewSec !== 'number' || !(clockSkewSec >= 0 && clockSkewSec <= MAX_SKEW_SEC)) {
    throw new RangeError(`auth: clockSkewSec must be between 0 and ${MAX_SKEW_SEC}`);
  }
  if (typeof jwksCacheMs !== 'number' || !(jwksCacheMs >= 0)) throw new RangeError('auth: jwksCacheMs must be >= 0');
  const audience = config.audience === undefined ? undefined : [].concat(config.audience);
  if (audience && (audience.length === 0 || !audience.every((a) => typeof a === 'string' && a !== ''))) {
    throw new TypeError('auth: audience must be a string or a non-empty array of strings');
  }
  if (config.issuer !== undefined && (typeof config.issuer !== 'string' || config.issuer === '')) {
    throw new TypeError('auth: issuer must be a non-empty string');
  }
  if ((jwks !== undefined || jwksUrl !== undefined) && (config.issuer === undefined || audience === undefined)) {
    // A key set is often shared (Firebase's, an Auth0 tenant's): it signs other projects' tokens
    // too, and without both checks their users would be let in, under any sub they have.
    throw new TypeError('auth: a JWKS (jwks or jwksUrl) needs both issuer and audience');
  }
  const forwardClaims = config.forwardClaims ?? [];
  if (!Array.isArray(forwardClaims) || !forwardClaims.every((n) => typeof n === 'string')) {
    throw new TypeError('auth: forwardClaims must be an array of claim names');
  }
  return { secret, jwks, jwksUrl, clockSkewSec, jwksCacheMs, audience, forwardClaims };
}

export function createVerifier(config) {
  const { secret, jwks, jwksUrl, clockSkewSec: skew, jwksCacheMs, audience, forwardClaims } = checkConfig(config);
  const issuer = config.issuer;
  // Looked up at call time, and called on globalThis: Workers throw "Illegal
  // invocation" for a detached fetch.
  const doFetch = config.fetch ?? ((url, init) => globalThis.fetch(url, init));
  // Milliseconds; a hook for tests.
  const now = config.now ?? Date.now;
  const refetchGap = Math.min(JWKS_REFETCH_GAP_MS, jwksCacheMs);

  const hmac = secret === undefined ? null : hmacKey(secret, ['verify']);
  const imported = new WeakMap(); // JWK object -> Promise<CryptoKey>

  let cache = null; // { keys, at }
  let inflight = null;
  let lastAttempt = -Infinity;
  let lastFailure = '';

  async function fetchJwks() {
    const res = await doFetch(jwksUrl, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json();
    if (!Array.isArray(body?.keys)) throw new Error('no "keys" array');
    return body.keys;
  }

  // Resolves once the shared fetch settles, or after the timeout: in Workers
  // a fetch started by a request that has since been cancelled may never
  // settle, and the other waiters must not hang on it.
  function awaitShared(p) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), JWKS_TIMEOUT_MS);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer)).catch((e) => {
      if (inflight === p) inflight = null;
      lastFailure = e.message;
    });
  }

  async function remoteKeys(refresh) {
    const t = now();
    const fresh = cache !== null && t - cache.at < jwksCacheMs;
    if ((!fresh || refresh) && !inflight && t - lastAttempt >= refetchGap) {
      lastAttempt = t;
      const p = fetchJwks()
        .then((keys) => { cache = { keys, at: now() }; })
        .finally(() => { if (inflight === p) inflight = null; });
      inflight = p;
    }
    if (inflight) await awaitShared(inflight);
    // A failed refresh keeps serving the previous set: the identity provider
    // being down should not log everybody out.
    if (!cache) fail('NO_KEY', `JWKS unavailable (${lastFailure || 'not fetched yet'})`);
    return cache.keys;
  }

  function pickKey(keys, alg, kid) {
    const spec = ALGS[alg];
    const fits = keys.filter((k) =>
      k && k.kty === spec.kty &&
      (spec.crv === undefined || k.crv === spec.crv) &&
      (k.alg === undefined || k.alg === alg) &&
      (k.use === undefined || k.use === 'sig'));
    if (kid !== undefined) return fits.find((k) => k.kid === kid);
    return fits.length === 1 ? fits[0] : undefined;
  }

  function importJwk(jwk, alg) {
    let key = imported.get(jwk);
    if (!key) {
      // Public members only: "key_ops", "ext" or a stray private "d" in a
      // published set must not make the import fail or succeed differently.
      const { kty, n, e, crv, x, y } = jwk;
      const pub = kty === 'RSA' ? { kty, n, e } : { kty, crv, x, y };
      key = crypto.subtle.importKey('jwk', pub, ALGS[alg].import, false, ['verify']);
      imported.set(jwk, key);
    }
    return key.catch(() => fail('NO_KEY', 'the matching JWKS key cannot be imported'));
  }

  async function keyFor(alg, kid) {
    if (alg === 'HS256') {
      if (!hmac) fail('BAD_ALG', 'HS256 tokens are not accepted (no secret configured)');
      return hmac;
    }
    if (!jwks && !jwksUrl) fail('BAD_ALG', `${alg} tokens are not accepted (no JWKS configured)`);
    if (jwks) {
      const jwk = pickKey(jwks.keys, alg, kid);
      return jwk ? importJwk(jwk, alg) : fail('NO_KEY', 'no JWKS key matches the token');
    }
    // An unknown key may have been rotated in since the set was cached.
    const jwk = pickKey(await remoteKeys(false), alg, kid) ?? pickKey(await remoteKeys(true), alg, kid);
    return jwk ? importJwk(jwk, alg) : fail('NO_KEY', 'no JWKS key matches the token');
  }

  function checkClaims(c) {
    if (typeof c.sub !== 'string' || c.sub === '') fail('MISSING_CLAIM', 'token needs "sub" (a non-empty string)');
    if (!Number.isFinite(c.exp)) fail('MISSING_CLAIM', 'token needs "exp" (a number)');
    const nowSec = now() / 1000;
    if (nowSec >= c.exp + skew) fail('EXPIRED', 'token has expired');
    if (c.nbf !== undefined) {
      if (!Number.isFinite(c.nbf)) fail('MALFORMED', 'token "nbf" is not a number');
      if (nowSec + skew < c.nbf) fail('NOT_YET_VALID', 'token is not valid yet');
    }
    if (issuer !== undefined && c.iss !== issuer) fail('BAD_ISSUER', 'token issuer is not accepted');
    if (audience) {
      const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
      if (!aud.some((a) => typeof a === 'string' && audience.includes(a))) {
        fail('BAD_AUDIENCE', 'token audience is not accepted');
      }
    }
  }

  async function verify(token) {
    if (token === undefined || token === null || token === '') fail('MISSING', 'no bearer token');
    if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) fail('MALFORMED', 'token is not a JWT');
    const parts = token.split('.');
    if (parts.length !== 3) fail('MALFORMED', 'token is not a JWT (needs three parts)');
    const [h, p, s] = parts;
    const header = jsonSegment(h, 'header');
    const { alg, kid } = header;
    // Only the algorithm list decides; "jku", "jwk" and "x5u" in the header
    // are ignored, since they would let the token pick its own key.
    if (typeof alg !== 'string' || !Object.hasOwn(ALGS, alg)) {
      fail('BAD_ALG', 'token algorithm is not accepted (HS256, RS256, ES256 only)');
    }
    // RFC 7515: extensions we do not understand must be refused.
    if (header.crit !== undefined) fail('MALFORMED', 'token header has unsupported "crit" extensions');
    if (kid !== undefined && typeof kid !== 'string') fail('MALFORMED', 'token "kid" is not a string');
    const claims = jsonSegment(p, 'payload');
    const sig = b64urlDecode(s);

    const key = await keyFor(alg, kid);
    // JWT ES256 signatures are raw r||s, which is what WebCrypto expects;
    // a DER signature is refused here rather than by a less clear failure.
    const ok = (alg !== 'ES256' || sig.length === 64) &&
      (await crypto.subtle.verify(ALGS[alg].verify, key, sig, te.encode(`${h}.${p}`)));
    if (!ok) fail('BAD_SIGNATURE', 'token signature does not verify');

    // Claims are looked at only once they are known to be authentic.
    checkClaims(claims);
    return {
      sub: claims.sub,
      exp: claims.exp,
      alg,
      claims: Object.fromEntries(forwardClaims.filter((n) => Object.hasOwn(claims, n)).map((n) => [n, claims[n]])),
    };
  }

  return { verify };
}
