/**
 * The all-reduce without shared memory (a browser page that is not
 * cross-origin isolated): replicas send each other their gradients over
 * MessagePorts, one port per pair, and each averages in replica order — the
 * same arithmetic as allreduce.ts, so every replica takes the same step.
 * Buffers are transferred, and a buffer received is reused for the next send,
 * so after the first step nothing is allocated. It costs more than shared
 * memory (a copy out and in per step, and a message), but works everywhere.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../backend/memory.js';
import { WorkerError } from '../errors.js';
import type { Param } from '../model/layer.js';
import { axpby } from '../ops/elementwise.js';
import type { Reduced, ReplicaSync } from '../train/fit.js';

interface Packet {
  step: number;
  /** [part/total, stop, ...scalars] */
  head: number[];
  grads: Float32Array | null;
}

export class PortReducer implements ReplicaSync {
  private step = 0;
  private readonly inbox = new Map<number, Packet[]>();
  private readonly waiters = new Map<number, (p: Packet) => void>();
  private failure: Error | null = null;
  private rejectAll: ((e: Error) => void)[] = [];
  private spare: ArrayBuffer[] = [];
  private other: Tensor[] | null = null;

  constructor(
    private readonly be: Backend,
    readonly index: number,
    readonly count: number,
    readonly floats: number,
    /** ports[r]: the channel to replica r (null at this replica's own index). */
    private readonly ports: (MessagePort | null)[],
  ) {
    ports.forEach((port, r) => {
      if (!port) return;
      this.inbox.set(r, []);
      port.addEventListener('message', (ev) => {
        const p = (ev as MessageEvent<Packet>).data;
        const w = this.waiters.get(r);
        if (w) {
          this.waiters.delete(r);
          w(p);
        } else this.inbox.get(r)!.push(p);
      });
      port.start();
    });
  }

  /** Makes a pending or future allReduce throw (a peer died). */
  fail(e: Error): void {
    this.failure ??= e;
    this.rejectAll.forEach((f) => f(e));
    this.rejectAll = [];
  }

  poison(): void {
    this.fail(
      new WorkerError('peer-failed', 'another worker of this data-parallel job failed; this one stopped with it'),
    );
  }

  dispose(): void {
    this.ports.forEach((p) => p?.close());
    this.other?.forEach((t) => t.dispose());
    this.other = null;
  }

  private receive(r: number): Promise<Packet> {
    const queued = this.inbox.get(r)!.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Packet>((ok, fail) => {
      this.waiters.set(r, ok);
      this.rejectAll.push(fail);
    });
  }

  async allReduce(
    params: readonly Param[],
    part: number,
    total: number,
    scalars: readonly number[],
    stop: boolean,
  ): Promise<Reduced> {
    if (this.failure) throw this.failure;
    const step = this.step++,
      n = this.count,
      f = this.floats;
    const withGrads = params.length > 0;
    const head = [part / total, this.index === 0 && stop ? 1 : 0, ...scalars];
    for (let r = 0; r < n; r++) {
      const port = this.ports[r];
      if (!port) continue;
      let grads: Float32Array | null = null;
      if (withGrads) {
        const buf = this.spare.pop();
        grads = buf && buf.byteLength === f * 4 ? new Float32Array(buf) : new Float32Array(f);
        let off = 0;
        for (const p of params) {
          grads.set(p.grad.data, off);
          off += p.grad.size;
        }
        if (off !== f)
          throw new WorkerError('crashed', `the model has ${off} gradient floats, the job was set up for ${f}`);
      }
      port.postMessage({ step, head, grads } satisfies Packet, grads ? [grads.buffer] : []);
    }
    const packets: (Packet | null)[] = [];
    for (let r = 0; r < n; r++) {
      if (r === this.index) {
        packets.push(null);
        continue;
      }
      const p = await this.receive(r);
      if (p.step !== step) throw new WorkerError('crashed', `replica ${r} is at step ${p.step}, this one at ${step}`);
      packets.push(p);
    }
    const headOf = (r: number) => (r === this.index ? head : packets[r]!.head);
    const sums = scalars.map((_, k) => {
      let s = 0;
      for (let r = 0; r < n; r++) s += headOf(r)[2 + k];
      return s;
    });
    const decided = headOf(0)[1] === 1;
    if (decided || !withGrads) {
      packets.forEach((p) => p?.grads && this.spare.push(p.grads.buffer as ArrayBuffer));
      return { sums, stop: decided };
    }
    const w = Array.from({ length: n }, (_, r) => headOf(r)[0]);
    if (n === 2) {
      const o = 1 - this.index,
        g = packets[o]!.grads!;
      this.other ??= params.map((p) => this.be.empty(p.grad.shape));
      let off = 0;
      params.forEach((p, k) => {
        const t = this.other![k];
        t.data.set(g.subarray(off, off + p.grad.size));
        axpby(p.grad, w[this.index], t, w[o]);
        off += p.grad.size;
      });
    } else {
      let off = 0;
      for (const p of params) {
        const d = p.grad.data,
          own = d.slice();
        for (let j = 0; j < d.length; j++) {
          let s = 0;
          for (let r = 0; r < n; r++) s += w[r] * (r === this.index ? own[j] : packets[r]!.grads![off + j]);
          d[j] = s;
        }
        off += d.length;
      }
    }
    packets.forEach((p) => p?.grads && this.spare.push(p.grads.buffer as ArrayBuffer));
    return { sums, stop: false };
  }
}
