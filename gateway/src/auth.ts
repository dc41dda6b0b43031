import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { graphqlError, ROLES, type Config, type Identity, type Role } from '@itsm/kit';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type TokenVerifier = (authorization: string | undefined) => Promise<Identity>;

/** Builds the verifier of `Authorization: Bearer` JWTs: HS256 secret in dev, JWKS in production. */
export function createTokenVerifier(jwt: Config['jwt']): TokenVerifier {
  const key = jwt.jwksUrl ? createRemoteJWKSet(new URL(jwt.jwksUrl)) : new TextEncoder().encode(jwt.secret);
  // A token without `exp` would be valid for good (and keep a WebSocket open for good): refused like a forged one.
  const options = {
    issuer: jwt.issuer,
    audience: jwt.audience,
    algorithms: jwt.jwksUrl ? ['RS256', 'ES256', 'EdDSA'] : ['HS256'],
    requiredClaims: ['exp'],
  };
  return async (authorization) => {
    if (!authorization) throw graphqlError('UNAUTHENTICATED', 'send Authorization: Bearer <token>');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw graphqlError('INVALID_TOKEN', 'Authorization header must be "Bearer <token>"');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, key as Uint8Array, options));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw graphqlError('TOKEN_EXPIRED', 'the token has expired; get a new one');
      throw graphqlError('INVALID_TOKEN', 'the token is not valid');
    }
    return identityFromClaims(payload);
  };
}

/**
 * Reads sub, tenant and roles; a token without a uuid tenant is refused rather than guessed, and so is a `roles`
 * claim that is not a list (read as "no roles" it would quietly turn an admin into a reader). Roles of the list
 * that the graph does not know (identity providers add their own) are ignored; a token without `roles` has none.
 */
export function identityFromClaims(payload: JWTPayload): Identity {
  const tenant = payload['tenant'];
  if (!payload.sub) throw graphqlError('INVALID_TOKEN', 'the token has no sub claim');
  if (typeof tenant !== 'string' || !UUID.test(tenant)) throw graphqlError('INVALID_TOKEN', 'the token has no tenant claim (a uuid)');
  const rawRoles = payload['roles'] ?? [];
  if (!Array.isArray(rawRoles)) throw graphqlError('INVALID_TOKEN', 'the roles claim of the token must be a list');
  const roles = rawRoles.filter((r): r is Role => (ROLES as readonly string[]).includes(r as string));
  return { userId: payload.sub, tenantId: tenant.toLowerCase(), roles };
}

/** Signs an HS256 token (dev mode and tests; production tokens come from the identity provider). */
export function issueToken(
  secret: string,
  claims: { sub: string; tenant: string; roles: readonly Role[] },
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT({ tenant: claims.tenant, roles: [...claims.roles] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
