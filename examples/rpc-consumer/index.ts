import type { TokenService } from "../../src/rpc/token-service";

/**
 * An enterprise Worker on Cloudflare that needs chat tokens for its signed-in users:
 * one RPC call over the service binding, no API key, no public hop. Here the "signed-in
 * user" is fixed; a real portal takes it from its own session.
 */
interface ConsumerEnv {
  CHAT_TOKENS: Service<TokenService>;
}

export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname !== "/token") return new Response("try /token\n", { status: 404 });
    try {
      const issued = await env.CHAT_TOKENS.issueToken({
        userId: "10010001",
        userName: "Tom",
        tenantSpaceId: "202007159031",
      });
      return Response.json(issued);
    } catch (error) {
      // A refusal's message is `retCode <n>: <message>` (README, "Workers RPC").
      return Response.json(
        { refused: error instanceof Error ? error.message : String(error) },
        { status: 502 },
      );
    }
  },
} satisfies ExportedHandler<ConsumerEnv>;
