import { Component, type ErrorInfo, type ReactNode } from 'react';
import { ErrorMessage } from './status';

interface Props {
  children: ReactNode;
  /** When this changes (e.g. the route), a page that failed gets another chance. */
  resetKey?: string;
}

interface State {
  error: unknown;
  resetKey: string | undefined;
}

/** Catches a render error so the user sees what went wrong instead of a blank page. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, resetKey: this.props.resetKey };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    return props.resetKey !== state.resetKey ? { error: null, resetKey: props.resetKey } : null;
  }

  override componentDidCatch(_error: unknown, _info: ErrorInfo): void {
    // Nothing to report to: the message is on screen, and the console already has the stack.
  }

  override render() {
    if (this.state.error) {
      return (
        <section className="page" aria-labelledby="crash-title">
          <h1 id="crash-title">This page failed to display</h1>
          <ErrorMessage error={this.state.error} onRetry={() => this.setState({ error: null })} />
        </section>
      );
    }
    return this.props.children;
  }
}
