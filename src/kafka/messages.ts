import type { IHeaders } from 'kafkajs';
import type { Cluster } from './producer-pool.js';

/** A consumed source record, as the loop hands it to its BatchHandler. */
export interface InboundRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders | undefined;
}

export interface OutboundMessage {
  readonly topic: string;
  /** Explicit partition; when absent, the default partitioner (murmur2 of the key) decides. */
  readonly partition?: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: IHeaders;
  /**
   * The cluster this message goes to in two-cluster mode. When absent, topics listed in
   * `crossCluster.sourceClusterTopics` go to the source cluster, every other topic to the target one.
   * Ignored with one cluster.
   */
  readonly cluster?: Cluster;
}
