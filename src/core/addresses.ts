// Classifies IP addresses so that server-supplied URLs cannot steer requests into private networks or cloud
// metadata services (SSRF). Parsing and the special-purpose ranges are ipaddr.js's; which of them count as what, and
// which carry an IPv4 address that decides the class, is ours. The DNS lookup that produces addresses is the platform's.
import ipaddr from 'ipaddr.js';
import { KeyringError } from './errors';
import { redactUrl } from './redact';

export const AddressClasses = ['public', 'loopback', 'private', 'link-local', 'reserved'] as const;
export type AddressClass = (typeof AddressClasses)[number];

/**
 * ipaddr.js range names with a class of their own; every other special range is `reserved`, Teredo included: it
 * tunnels to whatever IPv4 address it encodes, and no server has a reason to be there.
 */
const RANGE_CLASSES: Readonly<Record<string, AddressClass>> = {
  unicast: 'public',
  loopback: 'loopback',
  private: 'private',
  carrierGradeNat: 'private', // also hosts some clouds' metadata services
  uniqueLocal: 'private', // fd00:ec2::254 is AWS's IPv6 metadata service
  deprecatedSiteLocal: 'private', // fec0::/10: deprecated, still routed inside some sites
  linkLocal: 'link-local', // includes 169.254.169.254, the usual metadata service
  rfc6052: 'private', // left for the local-use NAT64 prefix (RFC 8215): the well-known one carries its IPv4 address
};

/** RFC 6052's well-known NAT64 prefix carries the IPv4 address; the local-use one (RFC 8215) stays private. */
const WELL_KNOWN_NAT64 = ipaddr.parseCIDR('64:ff9b::/96');
/** IPv4-compatible addresses (RFC 4291, deprecated): ::a.b.c.d, apart from :: and ::1. */
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

export function classifyAddress(address: string): AddressClass {
  const parsed = parseAddress(address);
  // Not an address at all: treat as the most restricted kind so a caller's mistake fails closed.
  if (!parsed) return 'reserved';
  return parsed.kind() === 'ipv4' ? classOfRange(parsed.range()) : classifyIpv6(parsed as ipaddr.IPv6);
}

export function isIpLiteral(host: string): boolean {
  return parseAddress(host) !== undefined;
}

/** A destination is allowed when it is public, or in the same class as the MCP server the user chose. */
export function isDestinationAllowed(destination: AddressClass, serverClass: AddressClass): boolean {
  return destination === 'public' || destination === serverClass;
}

/** Where the user's MCP server lives decides which non-public destinations its servers may name. */
export interface DestinationPolicy {
  readonly serverAddressClass: AddressClass;
}

export function isAddressAllowed(address: string, policy: DestinationPolicy): boolean {
  return isDestinationAllowed(classifyAddress(address), policy.serverAddressClass);
}

/** The one refusal every network gives for an address it would not connect to for `url`. */
export function forbiddenAddress(url: URL, address: string): KeyringError {
  return new KeyringError('forbidden_address', `refused to contact ${redactUrl(url)}: it resolves to a ${classifyAddress(address)} address and the MCP server is not in that range`);
}

function classifyIpv6(address: ipaddr.IPv6): AddressClass {
  const embedded = embeddedIpv4(address);
  return classOfRange((embedded ?? address).range());
}

/** The IPv4 address an IPv6 address stands for, where the IPv4 one decides where a connection really goes. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const [w0 = 0, w1 = 0, w2 = 0, , , , w6 = 0, w7 = 0] = address.parts;
  const range = address.range();
  const last32 = () => ipv4FromWords(w6, w7);
  if (range === 'ipv4Mapped' || range === 'rfc6145' || address.match(WELL_KNOWN_NAT64)) return last32();
  if (range === '6to4') return ipv4FromWords(w1, w2);
  if (range === 'unicast' && w0 === 0 && address.match(IPV4_COMPATIBLE)) return last32();
  return undefined;
}

function ipv4FromWords(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function classOfRange(range: string): AddressClass {
  return RANGE_CLASSES[range] ?? 'reserved';
}

/**
 * Dotted-quad IPv4 only (no "127.1" or hex octets, which resolvers read differently) and IPv6 with or without URL
 * brackets and a zone id.
 */
function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (bare.includes(':') && ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  return undefined;
}
