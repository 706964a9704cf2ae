/** Why a token was refused: `code` is one of the reasons docs/auth.md lists (e.g. "expired", "signature"). */
export declare class AuthError extends Error {
  readonly code: string;
  constructor(code: string, message: string);
}

/** An HS256 JWT of `payload`, signed with `secret` (development tokens, tests). */
export declare function signHs256(payload: Record<string, unknown>, secret: string): Promise<string>;

/** The bearer token of a request (Authorization header, or the `shoal-auth.` WebSocket subprotocol), or null. */
export declare function tokenFromRequest(request: Request): string | null;

export interface VerifierConfig {
  /** HS256 shared secret. */
  secret?: string;
  /** A JWKS URL for RS256 / ES256 keys. */
  jwksUrl?: string;
  /** A key set given inline. */
  jwks?: { keys: object[] };
  issuer?: string;
  audience?: string | string[];
  /** Claims passed on to the Durable Object (ctx.auth().claims()). */
  forwardClaims?: string[];
  /** Leeway for exp/nbf, 0..60 seconds. */
  clockSkewSec?: number;
  jwksCacheMs?: number;
  fetch?: typeof fetch;
  now?: () => number;
}

export interface VerifiedIdentity {
  sub: string;
  exp: number;
  claims: Record<string, unknown>;
}

export declare function createVerifier(config: VerifierConfig): { verify(token: string | null): Promise<VerifiedIdentity> };
