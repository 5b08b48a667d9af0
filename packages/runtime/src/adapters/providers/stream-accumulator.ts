import { ProviderError } from '../../providers/provider-error.js';
import { unknownUsage, type ChatResult, type FinishReason, type ToolCall, type Usage } from '../../providers/types.js';

interface PendingCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Collects a streamed reply: text, tool calls addressed by the wire's index (fragments
 * concatenated), usage and finish reason. `snapshot()` is what a broken stream had produced.
 */
export class StreamAccumulator {
  /** Token usage so far; members stay undefined until the wire reports them. */
  usage: Usage = unknownUsage();
  /** The finish reason, once the wire gave one. */
  finishReason: FinishReason | undefined;
  private readonly calls = new Map<number, PendingCall>();
  /** Every text fragment so far, joined only when a result is taken. */
  private readonly parts: string[] = [];
  /** How many of `parts` {@link takeTexts} has handed on. */
  private taken = 0;

  /** Appends a fragment of generated text. */
  addText(text: string): void {
    this.parts.push(text);
  }

  /** The fragments added since the last call, or undefined when there are none. */
  takeTexts(): string[] | undefined {
    if (this.taken === this.parts.length) return undefined;
    const texts = this.parts.slice(this.taken);
    this.taken = this.parts.length;
    return texts;
  }

  /** Starts or extends the tool call at `index`; later fragments carry only `args`. */
  addToolCallFragment(index: number, fragment: { id?: string; name?: string; args?: string }): void {
    let call = this.calls.get(index);
    if (!call) {
      call = { id: '', name: '', arguments: '' };
      this.calls.set(index, call);
    }
    if (fragment.id) call.id = fragment.id;
    if (fragment.name && !call.name) call.name = fragment.name;
    if (fragment.args) call.arguments += fragment.args;
  }

  /** Whether any tool call was started. */
  get hasToolCalls(): boolean {
    return this.calls.size > 0;
  }

  /** The tool calls in index order; a call without an id gets `call_<index>`. */
  toolCalls(): ToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, c]) => ({ id: c.id || `call_${index}`, name: c.name, arguments: c.arguments }));
  }

  /** The result as it stands. */
  snapshot(finishReason: FinishReason = this.finishReason ?? 'unknown'): ChatResult {
    return { text: this.parts.join(''), toolCalls: this.toolCalls(), finishReason, usage: { ...this.usage } };
  }
}

/**
 * Attaches what a stream had produced to the error that broke it. Anything that is not a
 * `ProviderError` yet is passed through unchanged for the retry loop to classify.
 */
export function withPartial(err: unknown, acc: StreamAccumulator): unknown {
  return err instanceof ProviderError ? err.with({ partial: acc.snapshot('unknown') }) : err;
}
