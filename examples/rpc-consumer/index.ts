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
    const issued = await env.CHAT_TOKENS.issueToken({
      userId: "10010001",
      userName: "Tom",
      tenantSpaceId: "202007159031",
    });
    // A refusal is an answer, `{retCode, message}` (README, "Workers RPC"), not an exception.
    if (issued.retCode !== 0) return Response.json(issued, { status: 502 });
    const { token, tokenId, expiresAt, expiresIn } = issued;
    return Response.json({ token, tokenId, expiresAt, expiresIn });
  },
} satisfies ExportedHandler<ConsumerEnv>;
