import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type * as z from "zod/mini";
import { MAX_BODY_BYTES } from "../core/constants";
import { type Decision, ok, refuse } from "../core/decision";
import { parseInput } from "../core/schemas";
import { answer } from "./answer";
import type { AppEnv } from "./app-env";

/** Refuses bodies over MAX_BODY_BYTES before they are read in full (Content-Length or streamed). */
export const limitBody: MiddlewareHandler<AppEnv> = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: (c) => answer(c, refuse("bodyTooLarge", `body larger than ${MAX_BODY_BYTES} bytes`)),
});

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** The body as JSON, or the refusal: a JSON media type and a body that parses. */
async function jsonValue(c: Context<AppEnv>): Promise<Decision<unknown>> {
  if (!JSON_MEDIA_TYPE.test(c.req.header("Content-Type") ?? "")) {
    return refuse("unsupportedMediaType", "Content-Type must be application/json");
  }
  try {
    return ok(JSON.parse(await c.req.text()));
  } catch {
    return refuse("malformedRequest", "body is not valid JSON");
  }
}

/**
 * Requires a JSON body that `schema` accepts; the handler reads it, typed, with
 * `c.req.valid("json")`. Every failure is answered here (retCode 1), naming the field
 * and what is wrong with it, never echoing a value.
 *
 * @example
 * .post("/", limitBody, jsonBody(validateRequest), (c) => c.json(c.req.valid("json")))
 */
export function jsonBody<Schema extends z.ZodMiniType>(
  schema: Schema,
): MiddlewareHandler<AppEnv, string, { in: { json: z.input<Schema> }; out: { json: z.output<Schema> } }> {
  return async function jsonBody(c, next) {
    const body = await jsonValue(c);
    const parsed = body.outcome === "ok" ? parseInput(schema, body.value) : body;
    if (parsed.outcome !== "ok") return answer(c, parsed);
    c.req.addValidatedData("json", parsed.value as object);
    await next();
  };
}

/**
 * Requires a JSON body, left unchecked in `c.var.json` for a handler whose schema
 * depends on who is calling (`POST /v1/tokens`).
 */
export const readJson: MiddlewareHandler<AppEnv> = async function readJson(c, next) {
  const body = await jsonValue(c);
  if (body.outcome !== "ok") return answer(c, body);
  c.set("json", body.value);
  await next();
};
