/** Long computations on a thread that must stay responsive: breaks for the event loop, and stopping when asked. */

/**
 * Lets timers, I/O and abort events run between steps. Browsers have no
 * setImmediate, and a chain of setTimeout(0) is clamped to 4 ms after a few
 * levels (4 ms lost every 30 ms of training): a message to ourselves is not.
 */
let yieldChannel: { port: MessagePort; waiting: (() => void)[] } | null = null;
export const yieldToEventLoop = (): Promise<void> => {
  if (typeof setImmediate === 'function') return new Promise<void>((ok) => setImmediate(ok));
  if (typeof MessageChannel !== 'function') return new Promise<void>((ok) => setTimeout(ok, 0));
  if (!yieldChannel) {
    const ch = new MessageChannel(),
      waiting: (() => void)[] = [];
    ch.port1.onmessage = () => waiting.shift()?.();
    yieldChannel = { port: ch.port2, waiting };
  }
  const y = yieldChannel;
  return new Promise<void>((ok) => {
    y.waiting.push(ok);
    y.port.postMessage(null);
  });
};

/**
 * Throws what an aborted `signal` was aborted with, as `fetch` and Node's own
 * promises reject: its `reason` (by default a DOMException named 'AbortError').
 * A signal-like object without `reason` gets that DOMException.
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
