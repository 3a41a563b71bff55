import assert from 'node:assert/strict';
import { classifyAddress, isDestinationAllowed, isIpLiteral, type AddressClass } from '../../../src/core/addresses';

describe('classifyAddress', () => {
  const cases: [string, AddressClass, string][] = [
    ['127.0.0.1', 'loopback', 'IPv4 loopback'],
    ['127.255.1.2', 'loopback', 'anywhere in 127/8'],
    ['::1', 'loopback', 'IPv6 loopback'],
    ['[::1]', 'loopback', 'bracketed IPv6 loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback', 'IPv6 loopback written out'],
    ['10.0.0.1', 'private', '10/8'],
    ['172.16.0.1', 'private', 'the start of 172.16/12'],
    ['172.31.255.255', 'private', 'the end of 172.16/12'],
    ['192.168.1.1', 'private', '192.168/16'],
    ['100.64.0.1', 'private', 'carrier-grade NAT 100.64/10'],
    ['100.127.255.255', 'private', 'the end of 100.64/10'],
    ['fc00::1', 'private', 'unique local fc00::/7'],
    ['fd00:ec2::254', 'private', "AWS's IPv6 metadata service"],
    ['FD12:3456::1', 'private', 'unique local in upper case'],
    ['169.254.169.254', 'link-local', 'the cloud metadata service'],
    ['169.254.0.1', 'link-local', '169.254/16'],
    ['fe80::1', 'link-local', 'IPv6 link-local'],
    ['fe80::1%eth0', 'link-local', 'link-local with a zone id'],
    ['[fe80::1%25en0]', 'link-local', 'bracketed link-local with an encoded zone id'],
    ['febf::1', 'link-local', 'the end of fe80::/10'],
    ['0.0.0.0', 'reserved', 'the unspecified IPv4 address'],
    ['::', 'reserved', 'the unspecified IPv6 address'],
    ['224.0.0.1', 'reserved', 'IPv4 multicast'],
    ['239.255.255.250', 'reserved', 'IPv4 multicast (SSDP)'],
    ['255.255.255.255', 'reserved', 'broadcast'],
    ['240.0.0.1', 'reserved', '240/4'],
    ['192.0.2.1', 'reserved', 'TEST-NET-1'],
    ['198.18.0.1', 'reserved', 'the benchmarking range'],
    ['ff02::1', 'reserved', 'IPv6 multicast'],
    ['2001:db8::1', 'reserved', 'the IPv6 documentation range'],
    ['::ffff:10.0.0.1', 'private', 'IPv4-mapped private'],
    ['::ffff:7f00:1', 'loopback', 'IPv4-mapped loopback in hex'],
    ['::ffff:127.0.0.1', 'loopback', 'IPv4-mapped loopback in dotted form'],
    ['::ffff:169.254.169.254', 'link-local', 'IPv4-mapped metadata service'],
    ['::ffff:8.8.8.8', 'public', 'IPv4-mapped public'],
    ['64:ff9b::a9fe:a9fe', 'link-local', 'NAT64 of the metadata service'],
    ['64:ff9b::10.1.2.3', 'private', 'NAT64 of a private address in dotted form'],
    ['64:ff9b::808:808', 'public', 'NAT64 of a public address'],
    // Ranges that carry or reach an IPv4 address, or a local network, behind an address that looks public.
    ['::10.0.0.1', 'private', 'IPv4-compatible private'],
    ['::a9fe:a9fe', 'link-local', 'IPv4-compatible metadata service in hex'],
    ['::8.8.8.8', 'public', 'IPv4-compatible public'],
    ['::ffff:0:10.0.0.1', 'private', 'IPv4-translated (RFC 6145) private'],
    ['::ffff:0:7f00:1', 'loopback', 'IPv4-translated loopback in hex'],
    ['2002:a9fe:a9fe::1', 'link-local', '6to4 of the metadata service'],
    ['2002:a00:1::', 'private', '6to4 of a private address'],
    ['2002:7f00:1::1', 'loopback', '6to4 of loopback'],
    ['2002:808:808::1', 'public', '6to4 of a public address'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved', 'Teredo, which tunnels to any IPv4 address'],
    ['64:ff9b:1::a00:1', 'private', 'local-use NAT64 (RFC 8215)'],
    ['fec0::1', 'private', 'site-local (deprecated, still routed inside sites)'],
    ['feff::1', 'private', 'the end of fec0::/10'],
    ['8.8.8.8', 'public', 'a public IPv4 address'],
    ['172.32.0.1', 'public', 'just past 172.16/12'],
    ['100.128.0.1', 'public', 'just past 100.64/10'],
    ['169.255.0.1', 'public', 'just past 169.254/16'],
    ['2606:4700::1111', 'public', 'a public IPv6 address'],
    ['[2606:4700::1111]', 'public', 'a bracketed public IPv6 address'],
    ['', 'reserved', 'an empty string (fails closed)'],
    ['mcp.example', 'reserved', 'a host name (fails closed)'],
    ['localhost', 'reserved', 'localhost, which is a name and not an address (fails closed)'],
    ['256.0.0.1', 'reserved', 'an octet over 255 (fails closed)'],
    ['1.2.3', 'reserved', 'three octets (fails closed)'],
    ['1.2.3.4.5', 'reserved', 'five octets (fails closed)'],
    ['0x7f.0.0.1', 'reserved', 'a hex octet (fails closed)'],
    ['1::2::3', 'reserved', 'two "::" (fails closed)'],
    ['1:2:3:4:5:6:7:8:9', 'reserved', 'nine IPv6 words (fails closed)'],
    ['12345::1', 'reserved', 'a five-digit IPv6 word (fails closed)'],
    ['::ffff:999.0.0.1', 'reserved', 'an invalid embedded IPv4 address (fails closed)'],
    ['[::1', 'reserved', 'an unclosed bracket (fails closed)'],
  ];
  for (const [address, expected, description] of cases) {
    it(`classifies ${address || '""'} (${description}) as ${expected}`, () => {
      assert.equal(classifyAddress(address), expected);
    });
  }
});

describe('isIpLiteral', () => {
  const cases: [string, boolean][] = [
    ['127.0.0.1', true],
    ['::1', true],
    ['[::1]', true],
    ['fe80::1%eth0', true],
    ['::ffff:10.0.0.1', true],
    ['mcp.example', false],
    ['localhost', false],
    ['1.2.3', false],
    ['', false],
    ['cafe', false],
  ];
  for (const [host, expected] of cases) {
    it(`says ${expected} for ${JSON.stringify(host)}`, () => {
      assert.equal(isIpLiteral(host), expected);
    });
  }
});

describe('isDestinationAllowed', () => {
  const classes: AddressClass[] = ['public', 'loopback', 'private', 'link-local', 'reserved'];
  for (const serverClass of classes) {
    it(`allows public destinations for a ${serverClass} server`, () => {
      assert.equal(isDestinationAllowed('public', serverClass), true);
    });
    it(`allows destinations in the same class as a ${serverClass} server`, () => {
      assert.equal(isDestinationAllowed(serverClass, serverClass), true);
    });
    for (const destination of classes.filter((kind) => kind !== 'public' && kind !== serverClass)) {
      it(`refuses a ${destination} destination for a ${serverClass} server`, () => {
        assert.equal(isDestinationAllowed(destination, serverClass), false);
      });
    }
  }
});
