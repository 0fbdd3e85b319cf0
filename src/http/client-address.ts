import {
  convertIPv4BinaryToString,
  convertIPv4MappedIPv6ToIPv4,
  convertIPv4ToBinary,
  convertIPv6BinaryToString,
  convertIPv6ToBinary,
  distinctRemoteAddr,
  isIPv4MappedIPv6,
} from "hono/utils/ipaddr";

/** The upper 64 bits of an IPv6 address: the block one customer usually holds. */
const PREFIX_64 = ((1n << 64n) - 1n) << 64n;

/**
 * The caller's address as a rate-limit key. Cloudflare sets CF-Connecting-IP and a
 * client cannot forge it at the edge. Addresses are normalised first, so one address has
 * one key however it is spelled: an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) counts as
 * its IPv4 address, and any other IPv6 address as its /64 in RFC 5952 form
 * (`2001:db8:0:1::/64`), so rotating within the block does not reset the count.
 * Anything that does not parse as an address shares the key `unknown`.
 */
export function clientAddressKey(request: Request): string {
  const address = request.headers.get("CF-Connecting-IP");
  if (!address) return "unknown";
  try {
    if (distinctRemoteAddr(address) === "IPv4")
      return convertIPv4BinaryToString(convertIPv4ToBinary(address));
    const binary = convertIPv6ToBinary(address);
    if (isIPv4MappedIPv6(binary)) return convertIPv4BinaryToString(convertIPv4MappedIPv6ToIPv4(binary));
    return `${convertIPv6BinaryToString(binary & PREFIX_64)}/64`;
  } catch {
    return "unknown";
  }
}
