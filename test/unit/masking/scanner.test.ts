import { describe, expect, it } from 'vitest';
import { findingTag, findPii, replaceFindings } from '../../../src/masking/formats/detectors.js';
import type { DetectorName } from '../../../src/masking/index.js';
import { DETECTOR_NAMES } from '../../../src/masking/index.js';

const all = new Set<DetectorName>(DETECTOR_NAMES);

function scrubbed(text: string, enabled: ReadonlySet<DetectorName> = all): string {
  return replaceFindings(text, findPii(text, enabled), (f) => findingTag(f.detector));
}

/** The leaks issue 9 reported (each was raw in the output before the scanner), and their neighbours. */
describe('scrub scanner: every instance, wherever it stands', () => {
  it.each<[string, string]>([
    // Adjacency: same kind side by side, another kind glued on, letters glued on.
    ['4111111111111111 5500005555555559', '[CREDIT_CARD] [CREDIT_CARD]'],
    ['4111 1111 1111 1111 5500 0055 5555 5559', '[CREDIT_CARD]'],
    ['4111-1111-1111-1111 5500-0055-5555-5559', '[CREDIT_CARD]'],
    ['4111111111111111abc', '[CREDIT_CARD]abc'],
    ['ref4111111111111111', 'ref[CREDIT_CARD]'],
    ['jane@acme.com415-555-0132', '[EMAIL][PHONE]'],
    ['jane@acme.com2024', '[EMAIL]2024'],
    ['DE89370400440532013000GB29NWBK60161331926819', '[IBAN][IBAN]'],
    ['415-555-0132 415-555-0199', '[PHONE]'],
    ['tel4155550132.', 'tel[PHONE].'],
    // Case and layout.
    ['de89 3704 0044 0532 0130 00', '[IBAN]'],
    ['De89 3704 0044 0532 0130 00 thanks', '[IBAN] thanks'],
    ['NL91 ABNA 0417 1643 00, FR14 2004 1010 0505 0001 3M02 606', '[IBAN], [IBAN]'],
    ['3782 822463 10005 (amex)', '[CREDIT_CARD] (amex)'],
    ['+44 (0)20 7946 0958, 0049 30 1234567; +33 1 23 45 67 89', '[PHONE], [PHONE]; [PHONE]'],
    // Shapes.
    ['::ffff:192.0.2.128', '[IPV6]'],
    ['64:ff9b::192.0.2.33 and 2001:0DB8:0000:0000:0000:FF00:0042:8329', '[IPV6] and [IPV6]'],
    ['fe80::1%eth0 then [2001:db8::1]:443', '[IPV6] then [[IPV6]]:443'],
    ["o'brien@example.ie", '[EMAIL]'],
    ["'jane@acme.com', 'x'", "'[EMAIL]', 'x'"],
    ['jane@münchen.de', '[EMAIL]'],
    ['josé.ünal@exämple.com', '[EMAIL]'],
    ['用户@例子.广告', '[EMAIL]'],
    ['"jane doe"@example.com', '[EMAIL]'],
    ['email=jane+news@acme.co.uk;', 'email=[EMAIL];'],
    // SQL text as Debezium's source.query carries it.
    [
      "INSERT INTO customers VALUES ('jane@acme.com', '415-555-0132', '078-05-1120', '4111111111111111', '10.0.0.7')",
      "INSERT INTO customers VALUES ('[EMAIL]', '[PHONE]', '[SSN]', '[CREDIT_CARD]', '[IPV4]')",
    ],
  ])('%j', (text, expected) => {
    expect(scrubbed(text)).toBe(expected);
  });

  it('replaces the union of overlapping findings: no fragment of either is left', () => {
    // An IBAN's digits also read as a phone; an IPv6 address embeds an IPv4 one.
    expect(findPii('DE89 3704 0044 0532 0130 00', all).map((f) => f.detector)).toEqual(['iban']);
    expect(findPii('::ffff:192.0.2.128', all).map((f) => [f.detector, f.text])).toEqual([['ipv6', '::ffff:192.0.2.128']]);
    // With IPv6 disabled, the IPv4 tail is still found.
    expect(scrubbed('::ffff:192.0.2.128', new Set<DetectorName>(['ipv4']))).toBe('::ffff:[IPV4]');
  });

  it.each([
    'Meeting 2024-03-01T12:30:00.123456Z, due 01.03.2024 or 03/01/2024',
    'id 123e4567-e89b-12d3-a456-426614174000',
    'commit 9fceb02d0ae598e95dc970b74767f19372d61af8',
    '$1,234,567.89 and 12.50 EUR, 99.5%',
    'times 10:30:45 and 12:00',
    'release 2.0.0-rc.1 of 1.22.333',
    'std::vector and a::b',
    'mac 00-1A-2B-3C-4D-5E and 12-34-56-78-90-12',
    'total 1 848 749,65 € paid',
  ])('leaves no-PII text alone: %j', (text) => {
    expect(findPii(text, all)).toEqual([]);
  });
});
