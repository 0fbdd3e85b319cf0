/**
 * The caller's address as a rate-limit key. Cloudflare sets CF-Connecting-IP and a
 * client cannot forge it at the edge. An IPv6 address counts as its /64, the block a
 * single customer usually holds, so rotating within it does not reset the count.
 */
export function clientAddressKey(request: Request): string {
  const address = request.headers.get("CF-Connecting-IP");
  if (!address) return "unknown";
  if (!address.includes(":")) return address;
  const [head = "", tail = ""] = address.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const missing = Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups = [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups];
  return `${groups.slice(0, 4).join(":")}::/64`;
}
