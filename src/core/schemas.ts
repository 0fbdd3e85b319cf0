import * as z from "zod/mini";
import { MAX_ID_LENGTH, MAX_TOKEN_LENGTH, MAX_USER_NAME_LENGTH, TOKEN_TTL_MAX_SECONDS } from "./constants";
import { type Decision, ok, refuse } from "./decision";
import { FORBIDDEN_CHARACTER } from "./text";

/** A required, non-empty string of bounded length. */
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

const NO_FORBIDDEN_CHARACTERS = "must not contain control or invisible formatting characters";

/** An id or a name: bounded text without control or invisible formatting characters (src/core/text.ts). */
const label = (max: number) =>
  text(max).check(
    z.refine((value) => !FORBIDDEN_CHARACTER.test(value), { message: NO_FORBIDDEN_CHARACTERS, abort: true }),
  );

/**
 * The identity a token is issued for, with the vendor's field names. The same rules
 * hold at issuance, from every source (API key body, identity claims), and at validation.
 */
export const identity = {
  userId: label(MAX_ID_LENGTH),
  userName: label(MAX_USER_NAME_LENGTH),
  tenantSpaceId: label(MAX_ID_LENGTH),
};

/** `POST /v1/tokens`. */
export const issueTokenRequest = z.object({
  ...identity,
  ttlSeconds: z.optional(z.number().check(z.int(), z.gte(1), z.lte(TOKEN_TTL_MAX_SECONDS))),
});
export type IssueTokenRequest = z.output<typeof issueTokenRequest>;

/**
 * `POST /v1/tokens` from a signed-in user (identity token): the identity comes from the
 * token; `userId` and `userName`, if sent, must be the same.
 */
export const identityIssueTokenRequest = z.object({
  userId: z.optional(identity.userId),
  userName: z.optional(identity.userName),
  tenantSpaceId: identity.tenantSpaceId,
  ttlSeconds: issueTokenRequest.shape.ttlSeconds,
});

/** CEC's validate call: exactly the vendor's field names (Table 1 of Huawei's "Developing a Token Generation Mechanism and Token Authentication API"). */
export const validateRequest = z.object({ Token: text(MAX_TOKEN_LENGTH), ...identity });
export type ValidateRequest = z.output<typeof validateRequest>;

/** Token ids are 16 random bytes in base64url. */
export const tokenIdParam = z.string().check(z.regex(/^[A-Za-z0-9_-]{22}$/));

/** `POST /v1/revocations`: the user whose every token and session ends now. */
export const revokeUserRequest = z.object({ tenantSpaceId: identity.tenantSpaceId, userId: identity.userId });

/** `POST /v1/web-channel/sessions`: the validate call's fields plus the channel. */
export const openSessionRequest = z.object({ ...validateRequest.shape, channelId: label(MAX_ID_LENGTH) });

// Response bodies: documented in /openapi.json from these same schemas.

/** Every error, and every validate answer. */
export const retCodeAnswer = z.object({
  retCode: z.int().check(z.gte(0)),
  message: z.string(),
});

/** `201` from `POST /v1/tokens`. */
export const issuedTokenAnswer = z.object({
  token: z.string(),
  tokenId: z.string(),
  expiresAt: z.iso.datetime(),
  expiresIn: z.int(),
});

/** `200` from `POST /v1/revocations`. */
export const userRevocationAnswer = z.object({ revokedBefore: z.iso.datetime() });

/** The identity a web-channel session carries. */
export const sessionAnswer = z.object({
  tenantId: z.string(),
  channelId: z.string(),
  userId: z.string(),
  expiresAt: z.iso.datetime(),
});

/** `200` from `POST /v1/web-channel/sessions`. */
export const openedSessionAnswer = z.object({ ...retCodeAnswer.shape, session: sessionAnswer });

/** `200` from `GET /v1/web-channel/me`. */
export const sessionIdentityAnswer = z.object({ ...sessionAnswer.shape, createdAt: z.iso.datetime() });

/** What is wrong with `field`, in words, never echoing its value. */
export function describeIssue(field: string, issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? `${field} is required`
        : `${field} must be ${article(issue.expected)}`;
    case "too_small":
      return issue.origin === "string"
        ? `${field} must not be empty`
        : `${field} must be at least ${issue.minimum}`;
    case "too_big":
      return issue.origin === "string"
        ? `${field} must be at most ${issue.maximum} characters`
        : `${field} must be at most ${issue.maximum}`;
    case "custom":
      // Our own refinements carry a fixed message that names no value.
      return `${field} ${issue.message}`;
    default:
      return `${field} is invalid`;
  }
}

const article = (type: string) =>
  type === "object" ? "a JSON object" : /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;

/**
 * Checks an input (a request body, an RPC argument) against its schema. A failure is a
 * malformedRequest naming each field at fault (at most five) and never its value.
 */
export function parseInput<Schema extends z.ZodMiniType>(
  schema: Schema,
  input: unknown,
): Decision<z.output<Schema>> {
  // reportInput only so that a missing field reads "is required"; inputs are never echoed.
  const result = z.safeParse(schema, input, { reportInput: true });
  if (result.success) return ok(result.data);
  const fields = result.error.issues
    .slice(0, 5)
    .map((issue) => describeIssue(issue.path.length > 0 ? issue.path.join(".") : "body", issue));
  return refuse("malformedRequest", fields.join("; "));
}
