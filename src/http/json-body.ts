import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import * as z from "zod/mini";
import { MAX_BODY_BYTES } from "../constants";
import { ServiceError } from "../ret-codes";
import { describeIssue } from "../schemas";

/** Refuses bodies over MAX_BODY_BYTES before they are read in full (Content-Length or streamed). */
export const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new ServiceError("malformedRequest", `body larger than ${MAX_BODY_BYTES} bytes`, { status: 413 });
  },
});

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * Reads the body as JSON and checks it against the schema. Every failure is a
 * malformedRequest naming the field and what is wrong with it, never echoing a value.
 */
export async function readJsonBody<Schema extends z.ZodMiniType>(
  c: Context,
  schema: Schema,
): Promise<z.output<Schema>> {
  if (!JSON_MEDIA_TYPE.test(c.req.header("Content-Type") ?? "")) {
    throw new ServiceError("malformedRequest", "Content-Type must be application/json", { status: 415 });
  }
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new ServiceError("malformedRequest", "body is not valid JSON");
  }
  // reportInput only so that a missing field reads "is required"; inputs are never echoed.
  const result = z.safeParse(schema, body, { reportInput: true });
  if (!result.success) throw new ServiceError("malformedRequest", describeIssues(result.error.issues));
  return result.data;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => describeIssue(issue.path.length > 0 ? issue.path.join(".") : "body", issue))
    .join("; ");
}
