#!/usr/bin/env node
// Prints fresh secrets in the formats the Worker reads (README, "Configuration").
//   npm run keys -- generate   a SIGNING_KEYS entry: <kid>:<32 random bytes, base64url>
//   npm run keys -- api-key    an API_KEYS entry: 32 random bytes, base64url
import { randomBytes } from "node:crypto";

const [command] = process.argv.slice(2);
const secret = () => randomBytes(32).toString("base64url");

if (command === "generate") {
  const date = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  console.log(`k-${date}-${randomBytes(3).toString("hex")}:${secret()}`);
} else if (command === "api-key") {
  console.log(secret());
} else {
  console.error("usage: npm run keys -- generate | api-key");
  process.exit(2);
}
