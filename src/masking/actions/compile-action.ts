import type { Rule } from '../policy.js';
import type { ActionEnv, CompiledAction } from './action-types.js';
import { compileDateShift } from './date-shift.js';
import { compileHash, compilePseudonymize } from './keyed.js';
import { compileGeneralize, compileMask } from './mask-chars.js';
import { compileKeep, compileNullify, compileRedact } from './redact.js';
import { compileScrub } from './scrub.js';

/** Compiles a rule's action for one scalar branch of a leaf, or says what type it expects. */
export function compileAction(rule: Rule, env: ActionEnv): CompiledAction {
  switch (rule.action) {
    case 'redact':
      return compileRedact(rule.params, env.scalar);
    case 'nullify':
      return compileNullify();
    case 'mask':
      return compileMask(rule.params, env.scalar);
    case 'hash':
      return compileHash(rule.params, env);
    case 'pseudonymize':
      return compilePseudonymize(rule.params, env);
    case 'date-shift':
      return compileDateShift(rule.params, env);
    case 'generalize':
      return compileGeneralize(rule.params, env.scalar);
    case 'scrub':
      return compileScrub(rule.params, env);
    case 'keep':
      return compileKeep();
  }
}
