import { Hono } from "hono";
import { refuse } from "../../core/decision";
import { DEMO_USERS, developmentJwks, mintDevelopmentIdentity } from "../../identity/development-idp";
import { answer, NO_STORE } from "../answer";
import type { AppEnv } from "../app-env";

/**
 * `/dev/idp`: the built-in development identity provider. Mounted only when
 * ENVIRONMENT=development (src/http/app.ts); in every other environment these paths are 404.
 * - `GET /dev/idp/jwks.json`: its public keys.
 * - `GET /dev/idp/token?user=alice`: an identity token for a demo user (alice, bob).
 */
export function developmentIdpRoute() {
  return new Hono<AppEnv>()
    .get("/jwks.json", async (c) => c.json(await developmentJwks(), 200, NO_STORE))
    .get("/token", async (c) => {
      const user = c.req.query("user") ?? "";
      const demo = DEMO_USERS[user];
      if (!demo)
        return answer(
          c,
          refuse("malformedRequest", `user must be one of ${Object.keys(DEMO_USERS).join(", ")}`),
        );
      return c.json(
        {
          idToken: await mintDevelopmentIdentity(user),
          userId: demo.sub,
          userName: demo.name,
          expiresIn: 600,
        },
        200,
        NO_STORE,
      );
    });
}
