import { describe, expect, it } from 'vitest';
import { splitByCluster } from '../../../src/kafka/cluster-routing.js';
import type { OutboundMessage } from '../../../src/kafka/messages.js';

const out = (topic: string, n: number, cluster?: 'source' | 'target'): OutboundMessage => ({ topic, key: Buffer.from(String(n)), value: null, ...(cluster === undefined ? {} : { cluster }) });
const keys = (messages: readonly OutboundMessage[]): string[] => messages.map((m) => `${m.topic}:${String(m.key)}`);

describe('splitByCluster', () => {
  const sourceTopics = new Set(['masker.quarantine']);

  it('sends source-cluster topics (quarantine) to the source and everything else to the target, keeping order', () => {
    const { source, target } = splitByCluster([out('t', 1), out('masker.quarantine', 2), out('masker.audit', 3), out('masker.quarantine', 4), out('t', 5)], sourceTopics);
    expect(keys(source)).toEqual(['masker.quarantine:2', 'masker.quarantine:4']);
    expect(keys(target)).toEqual(['t:1', 'masker.audit:3', 't:5']);
  });

  it('follows the cluster an output names over its topic', () => {
    const { source, target } = splitByCluster([out('t', 1, 'source'), out('masker.quarantine', 2, 'target'), out('u', 3)], sourceTopics);
    expect(keys(source)).toEqual(['t:1']);
    expect(keys(target)).toEqual(['masker.quarantine:2', 'u:3']);
  });
});
