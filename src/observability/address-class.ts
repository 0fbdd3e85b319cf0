/**
 * What the log says about the caller without logging its address: the address class,
 * and Cloudflare's network facts (autonomous system, location) when the runtime has them.
 * CEC calls from a few addresses of one network, so its ASN identifies it at a glance.
 */
export function describeCaller(request: Request) {
  const cf = request.cf as { asn?: number; colo?: string } | undefined;
  return { caller: addressClass(request.headers.get("CF-Connecting-IP")), asn: cf?.asn, colo: cf?.colo };
}

export function addressClass(address: string | null): string {
  if (!address) return "none";
  if (address.includes(":")) {
    const lower = address.toLowerCase();
    if (lower === "::1") return "loopback";
    if (/^f[cd]/.test(lower) || lower.startsWith("fe80")) return "private-ipv6";
    return "public-ipv6";
  }
  const [a = 0, b = 0] = address.split(".").map(Number);
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return "private-ipv4";
  return "public-ipv4";
}
