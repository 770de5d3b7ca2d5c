import { MaskerError } from '../../errors.js';
import type { Finding } from '../formats/detectors.js';
import { compileFinder, findingTag, replaceFindings } from '../formats/detectors.js';
import type { OnDetected } from '../policy.js';
import type { DetectorName } from '../policy-params.js';
import { DETECTOR_NAMES } from '../policy-params.js';
import type { ScalarOp } from './action-types.js';

/**
 * The safety net's operator on a string no rule masks: runs the scrub detectors and, when they find PII,
 * records which ones (for the audit and metrics) and then scrubs the findings, fails the record closed, or
 * passes the value through, as `untagged.onDetected` says. A value without findings is returned as is, so
 * the byte path keeps its bytes.
 */
export function compileDetect(detect: readonly DetectorName[], onDetected: OnDetected, slot: number, path: string): ScalarOp {
  const find = compileFinder(new Set(detect));
  // The last value and its findings: `after.x` equal to `before.x` in an update is scanned once.
  let lastText: string | undefined;
  let lastFindings: Finding[] = [];
  return (value, runtime) => {
    // Not a string: the record is not shaped like its schema, which output validation reports.
    if (typeof value !== 'string') return value;
    const text = value;
    if (text !== lastText) {
      lastFindings = find(text);
      lastText = text;
    }
    const findings = lastFindings;
    if (findings.length === 0) return value;
    const bits = detectorBits(findings);
    runtime.detected(slot, bits);
    switch (onDetected) {
      case 'scrub':
        return replaceFindings(text, findings, (f) => findingTag(f.detector));
      case 'alert':
        return value;
      case 'quarantine':
        throw new UntaggedPiiError(path, detectorNames(bits));
    }
  };
}

/** MASKER_UNTAGGED_PII with the field and detectors as data, for the audit and metrics (never the value). */
export class UntaggedPiiError extends MaskerError {
  constructor(readonly path: string, readonly detectors: readonly DetectorName[]) {
    super('MASKER_UNTAGGED_PII', `field ${path} has no rule and holds PII (${detectors.join(', ')}; untagged.onDetected: quarantine)`);
  }
}

function detectorBits(findings: readonly Finding[]): number {
  let bits = 0;
  for (const f of findings) bits |= 1 << DETECTOR_NAMES.indexOf(f.detector);
  return bits;
}

/** The detector names of a bit set, in DETECTOR_NAMES order. */
export function detectorNames(bits: number): DetectorName[] {
  return DETECTOR_NAMES.filter((_, i) => (bits & (1 << i)) !== 0);
}
