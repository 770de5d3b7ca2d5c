import type { Cluster } from './producer-pool.js';
import type { OutboundMessage } from './messages.js';

/** A chunk's outputs split by the cluster each goes to, each side in the handler's order. */
export interface OutputsByCluster {
  readonly source: readonly OutboundMessage[];
  readonly target: readonly OutboundMessage[];
}

/**
 * Two-cluster mode: which cluster each output goes to. An output that names its `cluster` goes there; one
 * that does not goes to the source cluster when its topic is one of `sourceClusterTopics` (the quarantine
 * topic: raw records never leave the source), else to the target cluster.
 */
export function splitByCluster(outputs: readonly OutboundMessage[], sourceClusterTopics: ReadonlySet<string>): OutputsByCluster {
  const source: OutboundMessage[] = [];
  const target: OutboundMessage[] = [];
  for (const o of outputs) (clusterOf(o, sourceClusterTopics) === 'source' ? source : target).push(o);
  return { source, target };
}

export function clusterOf(output: OutboundMessage, sourceClusterTopics: ReadonlySet<string>): Cluster {
  return output.cluster ?? (sourceClusterTopics.has(output.topic) ? 'source' : 'target');
}
