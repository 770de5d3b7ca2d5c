import type { Message } from 'kafkajs';
import type { OutboundMessage } from './messages.js';

/** One produce request: messages per topic, in the order the handler returned them. */
export type TopicMessages = { topic: string; messages: Message[] };

/** Upper bound of one topic's record bytes in one produce request; under the broker's 1 MiB default
 *  message.max.bytes, which limits each partition's record batch. */
export const MAX_REQUEST_BYTES = 768 * 1024;

/**
 * The produce requests (sendBatch calls) that publish `outputs`, in order. Each topic's share of one request
 * stays under `limit` bytes: the broker refuses record batches larger than message.max.bytes (1 MiB by
 * default), and 500 records' audit events alone can exceed it.
 */
export function produceRequests(outputs: readonly OutboundMessage[], limit = MAX_REQUEST_BYTES): TopicMessages[][] {
  return sliceBySize(groupByTopic(outputs), limit);
}

/** Splits topic messages into requests of at most `limit` bytes each, keeping per-topic order. */
export function sliceBySize(groups: TopicMessages[], limit: number): TopicMessages[][] {
  // Each topic's messages are cut into runs of at most `limit` bytes; request k carries run k of every
  // topic. The broker's limit applies per partition batch, not per request, so topics share requests.
  const runsPerTopic = groups.map((group) => {
    const runs: Message[][] = [];
    let run: Message[] = [];
    let bytes = 0;
    for (const message of group.messages) {
      const size = messageBytes(message);
      if (bytes + size > limit && run.length > 0) {
        runs.push(run);
        run = [];
        bytes = 0;
      }
      run.push(message);
      bytes += size;
    }
    if (run.length > 0) runs.push(run);
    return { topic: group.topic, runs };
  });
  const requests: TopicMessages[][] = [];
  const count = Math.max(0, ...runsPerTopic.map((t) => t.runs.length));
  for (let k = 0; k < count; k++) {
    requests.push(runsPerTopic.flatMap((t) => (t.runs[k] === undefined ? [] : [{ topic: t.topic, messages: t.runs[k] as Message[] }])));
  }
  return requests;
}

/** Messages per topic, topics in order of first appearance; only the fields Kafka carries. */
export function groupByTopic(outputs: readonly OutboundMessage[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const o of outputs) {
    let list = byTopic.get(o.topic);
    if (list === undefined) byTopic.set(o.topic, (list = []));
    list.push({
      key: o.key,
      value: o.value,
      ...(o.partition === undefined ? {} : { partition: o.partition }),
      ...(o.headers === undefined ? {} : { headers: o.headers }),
    });
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

function messageBytes(m: Message): number {
  let size = 64 + (m.key?.length ?? 0) + (Buffer.isBuffer(m.value) ? m.value.length : 0);
  for (const [name, value] of Object.entries(m.headers ?? {})) size += name.length + (Buffer.isBuffer(value) ? value.length : String(value).length);
  return size;
}
