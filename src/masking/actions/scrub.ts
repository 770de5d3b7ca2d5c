import { compileFinder, findingTag, replaceFindings } from '../formats/detectors.js';
import { normalizeForFormat, PSEUDONYM_GENERATORS } from '../formats/pseudonyms.js';
import type { DetectorName, PseudonymFormat, ScrubParams } from '../policy-params.js';
import type { ActionEnv, CompiledAction } from './action-types.js';
import { isStringLike, unsupported } from './action-types.js';

/** The pseudonym format a finding becomes with `replace: pseudonym`. */
const FORMAT_OF: Readonly<Record<DetectorName, PseudonymFormat>> = {
  email: 'email',
  phone: 'phone',
  ssn: 'ssn',
  'credit-card': 'credit-card',
  iban: 'iban',
  ipv4: 'ipv4',
  ipv6: 'ipv6',
};

/**
 * `scrub`: finds PII inside free text and replaces each finding — with a tag such as `[EMAIL]`
 * (`replace: tag`, the default) or with a pseudonym of the same kind (`replace: pseudonym`, keyed by
 * `domain` exactly like `pseudonymize`, so a scrubbed email equals the pseudonymised email column).
 */
export function compileScrub(params: ScrubParams, env: ActionEnv): CompiledAction {
  if (!isStringLike(env.scalar)) return unsupported('string (not uuid)');
  const findPii = compileFinder(new Set<DetectorName>(params.detectors));
  if (params.replace === 'tag') {
    const tags = new Map<DetectorName, string>(params.detectors.map((d) => [d, findingTag(d)]));
    return {
      op: (value) => {
        const text = value as string;
        return replaceFindings(text, findPii(text), (f) => tags.get(f.detector) ?? '[PII]');
      },
      costly: true,
    };
  }
  const slot = env.domainSlot(params.domain ?? env.rule.name);
  return {
    op: (value, rt) => {
      const text = value as string;
      const hasher = rt.hasher(slot);
      return replaceFindings(text, findPii(text), (f) => {
        const format = FORMAT_OF[f.detector];
        return PSEUDONYM_GENERATORS[format](hasher.digestString(normalizeForFormat(format, f.text)));
      });
    },
    costly: true,
  };
}
