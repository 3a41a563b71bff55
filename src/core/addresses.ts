// Classifies IP addresses so that server-supplied URLs cannot steer requests into private networks or cloud
// metadata services (SSRF). Pure parsing: the DNS lookup that produces the addresses is the platform's.

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved';

interface Range4 { readonly base: number; readonly bits: number; readonly kind: Exclude<AddressClass, 'public'> }

const IPV4_RANGES: readonly Range4[] = [
  range4('127.0.0.0', 8, 'loopback'),
  range4('10.0.0.0', 8, 'private'),
  range4('172.16.0.0', 12, 'private'),
  range4('192.168.0.0', 16, 'private'),
  range4('100.64.0.0', 10, 'private'), // carrier-grade NAT; also hosts some clouds' metadata services
  range4('169.254.0.0', 16, 'link-local'), // includes 169.254.169.254, the usual metadata service
  range4('0.0.0.0', 8, 'reserved'),
  range4('192.0.0.0', 24, 'reserved'),
  range4('192.0.2.0', 24, 'reserved'),
  range4('198.18.0.0', 15, 'reserved'),
  range4('198.51.100.0', 24, 'reserved'),
  range4('203.0.113.0', 24, 'reserved'),
  range4('224.0.0.0', 4, 'reserved'),
  range4('240.0.0.0', 4, 'reserved'),
];

export function classifyAddress(address: string): AddressClass {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return classifyIpv4(v4);
  const v6 = parseIpv6(text);
  if (v6 !== undefined) return classifyIpv6(v6);
  // Not an address at all: treat as the most restricted kind so a caller's mistake fails closed.
  return 'reserved';
}

export function isIpLiteral(host: string): boolean {
  const text = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return parseIpv4(text) !== undefined || parseIpv6(text) !== undefined;
}

/** A destination is allowed when it is public, or in the same class as the MCP server the user chose. */
export function isDestinationAllowed(destination: AddressClass, serverClass: AddressClass): boolean {
  return destination === 'public' || destination === serverClass;
}

function classifyIpv4(value: number): AddressClass {
  for (const range of IPV4_RANGES) {
    if (range.bits === 0 || value >>> (32 - range.bits) === range.base >>> (32 - range.bits)) return range.kind;
  }
  return value === 0xffffffff ? 'reserved' : 'public';
}

function classifyIpv6(words: number[]): AddressClass {
  const [w0 = 0, , , , , w5 = 0, w6 = 0, w7 = 0] = words;
  const upperZero = words.slice(0, 5).every((word) => word === 0);
  if (upperZero && w5 === 0 && w6 === 0 && w7 === 1) return 'loopback';
  if (upperZero && w5 === 0 && w6 === 0 && w7 === 0) return 'reserved';
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::/96) carry an IPv4 address that decides the class.
  if (upperZero && w5 === 0xffff) return classifyIpv4(((w6 << 16) | w7) >>> 0);
  if (w0 === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((word) => word === 0)) return classifyIpv4(((w6 << 16) | w7) >>> 0);
  if ((w0 & 0xfe00) === 0xfc00) return 'private';
  if ((w0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((w0 & 0xff00) === 0xff00) return 'reserved';
  if (w0 === 0x2001 && words[1] === 0x0db8) return 'reserved';
  return 'public';
}

function range4(base: string, bits: number, kind: Range4['kind']): Range4 {
  return { base: parseIpv4(base)!, bits, kind };
}

function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

function parseIpv6(input: string): number[] | undefined {
  const text = input.split('%')[0]!; // zone id
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = parseIpv6Words(halves[0]!);
  const tail = halves.length === 2 ? parseIpv6Words(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function parseIpv6Words(part: string): number[] | undefined {
  if (part === '') return [];
  const words: number[] = [];
  const pieces = part.split(':');
  for (const [index, piece] of pieces.entries()) {
    if (index === pieces.length - 1 && piece.includes('.')) {
      const v4 = parseIpv4(piece);
      if (v4 === undefined) return undefined;
      words.push(v4 >>> 16, v4 & 0xffff);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
      words.push(parseInt(piece, 16));
    } else {
      return undefined;
    }
  }
  return words;
}
