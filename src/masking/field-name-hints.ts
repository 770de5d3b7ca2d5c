import type { ScalarNode } from './schema-tree.js';

/**
 * Field-name hints for `masker scan`: what kind of PII a field's NAME suggests, whatever its values hold.
 * Names are split into words at snake_case, kebab-case, camelCase and digit boundaries
 * (`customerEmail`, `e_mail`, `IPAddress`, `zip-code`, `address1`), so `zip` never hits `ship` and `ip`
 * never hits `tip`. A hint is only a hint: the scan combines it with detector hits on sampled values.
 */

export const PII_KINDS = [
  'EMAIL', 'PHONE', 'SSN', 'NATIONAL_ID', 'DOB', 'NAME', 'FIRST_NAME', 'LAST_NAME', 'USERNAME', 'ADDRESS',
  'POSTAL_CODE', 'IP', 'IBAN', 'BANK_ACCOUNT', 'CREDIT_CARD', 'PASSPORT', 'LICENSE', 'LOCATION',
] as const;
export type PiiKind = (typeof PII_KINDS)[number];

/** Single words (after splitting) and the kind each suggests. */
const WORDS: ReadonlyMap<string, PiiKind> = new Map<string, PiiKind>([
  ...kinds('EMAIL', ['email', 'mail', 'emailaddress', 'emailaddr']),
  ...kinds('PHONE', ['phone', 'phonenumber', 'phoneno', 'mobile', 'mobilephone', 'cellphone', 'tel', 'telephone', 'fax', 'msisdn']),
  ...kinds('SSN', ['ssn', 'social']),
  ...kinds('DOB', ['dob', 'birth', 'birthday', 'birthdate', 'dateofbirth']),
  ...kinds('NAME', ['name', 'fullname', 'middlename', 'maidenname', 'nickname']),
  ...kinds('FIRST_NAME', ['firstname', 'givenname', 'forename']),
  ...kinds('LAST_NAME', ['lastname', 'surname', 'familyname']),
  ...kinds('USERNAME', ['username']),
  ...kinds('ADDRESS', ['address', 'addr', 'street', 'streetaddress', 'addressline']),
  ...kinds('POSTAL_CODE', ['zip', 'zipcode', 'postal', 'postcode', 'postalcode']),
  ...kinds('IP', ['ip', 'ipv', 'ipaddress', 'ipaddr']),
  ...kinds('IBAN', ['iban']),
  ...kinds('CREDIT_CARD', ['card', 'creditcard', 'cardnumber', 'ccnumber', 'pan', 'cvv', 'cvc']),
  ...kinds('PASSPORT', ['passport']),
  ...kinds('LICENSE', ['license', 'licence']),
  ...kinds('LOCATION', ['latitude', 'longitude', 'lat', 'lng', 'lon', 'geo', 'geolocation', 'gps']),
]);

/** Word sequences read as one (longest first); `null` means "not PII" (`mac_address`, `host_name`). */
const PHRASES: readonly (readonly [readonly string[], PiiKind | null])[] = [
  [['date', 'of', 'birth'], 'DOB'],
  [['social', 'security'], 'SSN'],
  [['first', 'name'], 'FIRST_NAME'],
  [['given', 'name'], 'FIRST_NAME'],
  [['last', 'name'], 'LAST_NAME'],
  [['family', 'name'], 'LAST_NAME'],
  [['user', 'name'], 'USERNAME'],
  [['e', 'mail'], 'EMAIL'],
  [['email', 'address'], 'EMAIL'],
  [['email', 'addr'], 'EMAIL'],
  [['mail', 'address'], 'EMAIL'],
  [['ip', 'address'], 'IP'],
  [['ip', 'addr'], 'IP'],
  [['mac', 'address'], null],
  [['birth', 'date'], 'DOB'],
  [['zip', 'code'], 'POSTAL_CODE'],
  [['postal', 'code'], 'POSTAL_CODE'],
  [['post', 'code'], 'POSTAL_CODE'],
  [['phone', 'number'], 'PHONE'],
  [['card', 'number'], 'CREDIT_CARD'],
  [['credit', 'card'], 'CREDIT_CARD'],
  [['bank', 'account'], 'BANK_ACCOUNT'],
  [['account', 'number'], 'BANK_ACCOUNT'],
  [['national', 'id'], 'NATIONAL_ID'],
  [['tax', 'id'], 'NATIONAL_ID'],
  [['driver', 'license'], 'LICENSE'],
  [['drivers', 'license'], 'LICENSE'],
];

/** Words before `name` / `address` that make them about things, not people (`file_name`, `memory_address`). */
const THING_QUALIFIERS = new Set([
  'file', 'path', 'product', 'host', 'server', 'table', 'schema', 'db', 'database', 'topic', 'connector',
  'class', 'type', 'field', 'column', 'key', 'index', 'app', 'application', 'service', 'company', 'brand',
  'domain', 'bucket', 'queue', 'event', 'job', 'task', 'method', 'function', 'package', 'module', 'device',
  'machine', 'cluster', 'node', 'region', 'zone', 'project', 'org', 'organization', 'organisation', 'team',
  'group', 'role', 'category', 'tag', 'label', 'business', 'store', 'shop', 'item', 'sku', 'plan',
  'campaign', 'metric', 'attribute', 'property', 'param', 'parameter', 'variable', 'env', 'environment',
  'instance', 'container', 'image', 'repo', 'branch', 'channel', 'collection', 'feature', 'model',
  'resource', 'source', 'target', 'tenant', 'memory', 'wallet', 'contract', 'web', 'url', 'network', 'vendor',
  'merchant', 'bank', 'street', 'city', 'country', 'state', 'folder', 'dir', 'directory', 'user',
]);

/** A last word that says the field is ABOUT the PII, not the PII itself (`email_verified`, `phone_type`). */
const META_SUFFIXES = new Set([
  'count', 'counts', 'verified', 'enabled', 'disabled', 'type', 'types', 'kind', 'status', 'state', 'flag',
  'opt', 'optin', 'consent', 'format', 'template', 'hash', 'hashed', 'length', 'len', 'provider', 'valid',
  'validated', 'confirmed', 'changed', 'sent', 'bounced', 'preference', 'preferences', 'visibility',
  'version', 'checksum', 'digest', 'masked', 'encrypted', 'token', 'tokenized', 'present', 'required',
]);

function kinds(kind: PiiKind, words: readonly string[]): [string, PiiKind][] {
  return words.map((w) => [w, kind]);
}

/** Splits a field name into lower-case words: `lastLoginIP` → last, login, ip; `address_line1` → address, line, 1. */
export function splitFieldName(name: string): string[] {
  return (name.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? []).map((w) => w.toLowerCase());
}

/** The PII kinds a field name suggests, in the order they appear (none for `email_verified`, `file_name`). */
export function fieldNameHints(name: string): PiiKind[] {
  const words = splitFieldName(name);
  if (words.length === 0) return [];
  const last = words[words.length - 1];
  if (words.length > 1 && last !== undefined && META_SUFFIXES.has(last)) return [];
  const out: PiiKind[] = [];
  const add = (kind: PiiKind): void => {
    if (!out.includes(kind)) out.push(kind);
  };
  let i = 0;
  while (i < words.length) {
    const phrase = PHRASES.find(([seq]) => seq.every((w, k) => words[i + k] === w));
    if (phrase !== undefined) {
      const [seq, kind] = phrase;
      if (kind !== null) add(kind);
      i += seq.length;
      continue;
    }
    const word = words[i] ?? '';
    const kind = WORDS.get(word);
    const before = words[i - 1];
    const aboutAThing = (kind === 'NAME' || kind === 'ADDRESS') && before !== undefined && THING_QUALIFIERS.has(before);
    if (kind !== undefined && !aboutAThing) add(kind);
    i++;
  }
  return out;
}

/** Kinds a value of these Avro types can carry: booleans, enums, UUIDs and raw bytes never hold PII by name. */
export function kindsForTypes(scalars: readonly ScalarNode[]): ReadonlySet<PiiKind> {
  const out = new Set<PiiKind>();
  for (const s of scalars) {
    if (s.scalar === 'string' && s.logicalType !== 'uuid') for (const k of PII_KINDS) out.add(k);
    else if ((s.scalar === 'int' || s.scalar === 'long') && s.logicalType !== undefined) {
      if (/^(date|timestamp-|local-timestamp-)/.test(s.logicalType)) out.add('DOB');
    } else if (s.scalar === 'int' || s.scalar === 'long') {
      for (const k of ['PHONE', 'SSN', 'NATIONAL_ID', 'DOB', 'POSTAL_CODE', 'CREDIT_CARD', 'BANK_ACCOUNT'] as const) out.add(k);
    } else if (s.scalar === 'float' || s.scalar === 'double') out.add('LOCATION');
  }
  return out;
}

/** Hints of a leaf: its name's kinds that its type can carry. */
export function leafNameHints(name: string | undefined, scalars: readonly ScalarNode[]): PiiKind[] {
  if (name === undefined) return [];
  const possible = kindsForTypes(scalars);
  return fieldNameHints(name).filter((k) => possible.has(k));
}
