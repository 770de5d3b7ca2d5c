import { z } from 'zod';
import { exactPathSyntaxError } from './path-glob.js';

/** Every action a rule can name. */
export const ACTION_NAMES = [
  'redact',
  'nullify',
  'mask',
  'hash',
  'pseudonymize',
  'date-shift',
  'generalize',
  'scrub',
  'keep',
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

/** Formats of `pseudonymize` (`iban` is an addition to the design's list). */
export const PSEUDONYM_FORMATS = [
  'email',
  'phone',
  'name',
  'first-name',
  'last-name',
  'ssn',
  'credit-card',
  'iban',
  'ipv4',
  'ipv6',
  'uuid',
  'address',
] as const;
export type PseudonymFormat = (typeof PSEUDONYM_FORMATS)[number];

/** Detectors of `scrub`, in the priority order used when two findings overlap. */
export const DETECTOR_NAMES = ['email', 'iban', 'credit-card', 'ssn', 'ipv6', 'ipv4', 'phone'] as const;
export type DetectorName = (typeof DETECTOR_NAMES)[number];

/** `domain` of keyed actions: mixed into the HMAC so equal inputs mask equally within one domain. */
const domain = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'expected 1-63 characters [a-z0-9._-], starting with a letter or digit');

const singleCharacter = z
  .string()
  .refine((s) => [...s].length === 1, 'expected exactly one character');

/** `redact` [replacement]: type-aware constant; `replacement` must fit the field's type (checked at plan time). */
export const redactParams = z
  .object({ replacement: z.union([z.string(), z.number().finite(), z.boolean()]).optional() })
  .strict();

/** `nullify`: no parameters. */
export const nullifyParams = z.object({}).strict();

/** `mask` [keepFirst=0, keepLast=0, char="*"]: when keepFirst+keepLast ≥ length, every character is masked. */
export const maskParams = z
  .object({
    keepFirst: z.number().int().min(0).max(64).default(0),
    keepLast: z.number().int().min(0).max(64).default(0),
    char: singleCharacter.default('*'),
  })
  .strict();

/** `hash` [length (characters for strings, bytes for bytes), encoding=hex, domain=rule name]. */
export const hashParams = z
  .object({
    length: z.number().int().min(8).max(64).optional(),
    encoding: z.enum(['hex', 'base64', 'base64url']).default('hex'),
    domain: domain.optional(),
  })
  .strict();

/** `pseudonymize` format (required) [domain=rule name]. */
export const pseudonymizeParams = z
  .object({ format: z.enum(PSEUDONYM_FORMATS), domain: domain.optional() })
  .strict();

/** `date-shift` [maxDays=30, entityPath, domain=rule name]. */
export const dateShiftParams = z
  .object({
    maxDays: z.number().int().min(1).max(3650).default(30),
    entityPath: z
      .string()
      .superRefine((p, ctx) => {
        const problem = exactPathSyntaxError(p);
        if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      })
      .optional(),
    domain: domain.optional(),
  })
  .strict();

/** `generalize`: exactly one of bucket (numbers) or keepPrefix (strings). */
export const generalizeParams = z
  .object({
    bucket: z.number().positive().finite().optional(),
    keepPrefix: z.number().int().min(0).max(1024).optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    if ((p.bucket === undefined) === (p.keepPrefix === undefined)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'expected exactly one of bucket (numbers) or keepPrefix (strings)' });
    }
  });

/** `scrub` [detectors=all, replace=tag, domain=rule name]. */
export const scrubParams = z
  .object({
    detectors: z
      .array(z.enum(DETECTOR_NAMES))
      .min(1)
      .refine((d) => new Set(d).size === d.length, 'detectors must not repeat')
      .default([...DETECTOR_NAMES]),
    replace: z.enum(['tag', 'pseudonym']).default('tag'),
    domain: domain.optional(),
  })
  .strict();

/** `keep` reason (required): an explicit, documented pass-through. */
export const keepParams = z
  .object({ reason: z.string().refine((s) => s.trim() !== '', 'reason must not be empty') })
  .strict();

export type RedactParams = z.output<typeof redactParams>;
export type MaskParams = z.output<typeof maskParams>;
export type HashParams = z.output<typeof hashParams>;
export type PseudonymizeParams = z.output<typeof pseudonymizeParams>;
export type DateShiftParams = z.output<typeof dateShiftParams>;
export type GeneralizeParams = z.output<typeof generalizeParams>;
export type ScrubParams = z.output<typeof scrubParams>;
export type KeepParams = z.output<typeof keepParams>;
