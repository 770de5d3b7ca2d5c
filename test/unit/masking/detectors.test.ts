import { describe, expect, it } from 'vitest';
import { findPii } from '../../../src/masking/formats/detectors.js';
import type { DetectorName } from '../../../src/masking/index.js';
import { DETECTOR_NAMES } from '../../../src/masking/index.js';

const all = new Set<DetectorName>(DETECTOR_NAMES);

function found(text: string, enabled: ReadonlySet<DetectorName> = all): [DetectorName, string][] {
  return findPii(text, enabled).map((f) => [f.detector, f.text]);
}

describe('scrub detectors', () => {
  it.each<[string, [DetectorName, string][]]>([
    ['mail me at jane.doe+x@mail.example.co.uk today', [['email', 'jane.doe+x@mail.example.co.uk']]],
    ['card 4111 1111 1111 1111 exp 12/29', [['credit-card', '4111 1111 1111 1111']]],
    ['card 4111-1111-1111-1111.', [['credit-card', '4111-1111-1111-1111']]],
    ['order 123 4111 1111 1111 1111', [['credit-card', '123 4111 1111 1111 1111']]],
    ['iban DE89 3704 0044 0532 0130 00 THANKS', [['iban', 'DE89 3704 0044 0532 0130 00']]],
    ['iban GB82WEST12345698765432', [['iban', 'GB82WEST12345698765432']]],
    ['ssn 078-05-1120.', [['ssn', '078-05-1120']]],
    ['from 192.168.1.20:8080', [['ipv4', '192.168.1.20']]],
    ['v6 2001:db8::8a2e:370:7334 end', [['ipv6', '2001:db8::8a2e:370:7334']]],
    ['full fe80:0:0:0:202:b3ff:fe1e:8329', [['ipv6', 'fe80:0:0:0:202:b3ff:fe1e:8329']]],
    ['call +1 (415) 555-0199 now', [['phone', '+1 (415) 555-0199']]],
    ['call 415.555.0199', [['phone', '415.555.0199']]],
    ['call 4155550199', [['phone', '4155550199']]],
  ])('finds PII in %j', (text, expected) => {
    expect(found(text)).toEqual(expected);
  });

  it.each([
    'no pii here at all',
    'version 1.2.3.4.5 and 999.1.1.1',
    'meeting at 12:30:45 on 2024-01-15',
    'mac 00:1A:2B:3C:4D:5E',
    'order 12345 shipped',
    'total 1234567.89 paid',
  ])('finds nothing in %j', (text) => {
    expect(found(text)).toEqual([]);
  });

  it('scrubs the digits of a grouped number that fails Luhn or mod-97 as a phone-shaped number, not as a card or IBAN', () => {
    expect(found('card 4111 1111 1111 1112 fails Luhn')).toEqual([['phone', '4111 1111 1111 1112']]);
    expect(found('iban DE00 3704 0044 0532 0130 00 fails mod-97')).toEqual([['phone', '00 3704 0044 0532 0130 00']]);
  });

  it('does not report never-issued SSNs as SSNs (digits that look like a phone are still scrubbed)', () => {
    const kinds = found('ssn 000-12-3456 and 666-12-3456').map(([d]) => d);
    expect(kinds).not.toContain('ssn');
    expect(kinds).toEqual(['phone', 'phone']);
  });

  it('finds several kinds in one text, without overlaps', () => {
    const text = 'Jane (jane@acme.com, +44 20 7946 0958) paid 5555 5555 5555 4444 from 10.0.0.7; SSN 219-09-9999.';
    expect(found(text).map(([d]) => d)).toEqual(['email', 'phone', 'credit-card', 'ipv4', 'ssn']);
  });

  it('runs only the enabled detectors', () => {
    expect(found('jane@acme.com 10.0.0.7', new Set<DetectorName>(['ipv4']))).toEqual([['ipv4', '10.0.0.7']]);
  });
});
