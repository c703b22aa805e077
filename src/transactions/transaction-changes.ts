import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { TransactionSummary } from './read-model.port';

type Listener = (summary: TransactionSummary) => void;

/**
 * In-process notifications of summaries the projection just stored, for long polls and
 * Server-Sent Events. A listener hears every change committed after it subscribed.
 */
@Injectable()
export class TransactionChanges {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(summary: TransactionSummary): void {
    this.emitter.emit(summary.streamName, summary);
  }

  subscribe(streamName: string, listener: Listener): () => void {
    this.emitter.on(streamName, listener);
    return () => this.emitter.off(streamName, listener);
  }

  /** The first stored change that passes `accept`, or null after `timeoutMs`. */
  next(
    streamName: string,
    accept: (summary: TransactionSummary) => boolean,
    timeoutMs: number,
  ): { promise: Promise<TransactionSummary | null>; cancel: () => void } {
    let cancel = () => {};
    const promise = new Promise<TransactionSummary | null>((resolve) => {
      const finish = (value: TransactionSummary | null) => {
        clearTimeout(timer);
        unsubscribe();
        resolve(value);
      };
      const timer = setTimeout(() => finish(null), timeoutMs);
      const unsubscribe = this.subscribe(streamName, (summary) => {
        if (accept(summary)) finish(summary);
      });
      cancel = () => finish(null);
    });
    return { promise, cancel };
  }
}
