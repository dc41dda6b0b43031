import { createHmac, timingSafeEqual } from 'node:crypto';
import { isUuid } from './loaders.js';

export const ROLES = ['agent', 'manager', 'change_manager', 'cab_member', 'admin', 'partner'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as verified by the gateway; the tenant never comes from arguments. */
export interface Identity {
  userId: string;
  tenantId: string;
  roles: Role[];
}

export const IDENTITY_HEADERS = {
  user: 'x-itsm-user',
  tenant: 'x-itsm-tenant',
  roles: 'x-itsm-roles',
  timestamp: 'x-itsm-timestamp',
  signature: 'x-itsm-signature',
  requestId: 'x-request-id',
} as const;

/** Signed headers older (or newer) than this are refused, which bounds header replay. */
const MAX_SKEW_MS = 5 * 60_000;

function signature(secret: string, userId: string, tenantId: string, roles: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${userId}\n${tenantId}\n${roles}\n${timestamp}`).digest('base64url');
}

/**
 * Headers that carry an identity from the gateway to a subgraph, HMAC-signed with the internal secret. The user id
 * is the token's `sub`, any string: it travels percent-encoded (an HTTP header cannot carry characters beyond
 * Latin-1, nor line breaks), and the signature covers the encoded value.
 */
export function signIdentity(identity: Identity, secret: string, now = Date.now()): Record<string, string> {
  const user = encodeURIComponent(identity.userId);
  const roles = identity.roles.join(',');
  const timestamp = String(now);
  return {
    [IDENTITY_HEADERS.user]: user,
    [IDENTITY_HEADERS.tenant]: identity.tenantId,
    [IDENTITY_HEADERS.roles]: roles,
    [IDENTITY_HEADERS.timestamp]: timestamp,
    [IDENTITY_HEADERS.signature]: signature(secret, user, identity.tenantId, roles, timestamp),
  };
}

/** Checks signed identity headers; returns the identity, or why they were refused. */
export function verifyIdentity(
  get: (name: string) => string | undefined,
  secret: string,
  now = Date.now(),
): { identity: Identity } | { reason: string } {
  const user = get(IDENTITY_HEADERS.user);
  const tenantId = get(IDENTITY_HEADERS.tenant);
  const roles = get(IDENTITY_HEADERS.roles) ?? '';
  const timestamp = get(IDENTITY_HEADERS.timestamp);
  const sent = get(IDENTITY_HEADERS.signature);
  if (!user || !tenantId || !timestamp || !sent) return { reason: 'request is not signed by the gateway' };
  const expected = signature(secret, user, tenantId, roles, timestamp);
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { reason: 'gateway signature does not verify' };
  if (Math.abs(now - Number(timestamp)) > MAX_SKEW_MS) return { reason: 'gateway signature has expired' };
  if (!isUuid(tenantId)) return { reason: 'tenant is not a uuid' };
  let userId: string;
  try {
    userId = decodeURIComponent(user);
  } catch {
    return { reason: 'user id is not percent-encoded' };
  }
  const parsedRoles = roles.split(',').filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  return { identity: { userId, tenantId, roles: parsedRoles } };
}

/** True when the identity holds any of the roles (admin holds every role). */
export function hasRole(identity: Identity, allowed: readonly Role[]): boolean {
  return identity.roles.includes('admin') || identity.roles.some((r) => allowed.includes(r));
}

/** Roles that may write; partner is read-only. */
export const WRITER_ROLES: readonly Role[] = ['agent', 'manager', 'change_manager', 'cab_member', 'admin'];
