// The one shape every local server has, so the stack can start, probe and stop them in order
// without knowing which is which.

export type ServerState = 'running' | 'stopped' | 'failed';

export interface ServerStatus {
  state: ServerState;
  /** Why it is stopped or failed, and where to look; absent when running. */
  reason?: string;
  /** Our server's process, when it is alive (also when failed: alive but not answering). */
  pid?: number;
}

/** Human progress for long steps (a CLI prints it; tests ignore it). */
export type Progress = (line: string) => void;

export interface LocalServer {
  name: string;
  /** host:port clients use. */
  address: string;
  /** The server's own log file, named in every error. */
  logFile: string;
  /** Ports this server listens on, with the variable that moves each. */
  ports: { port: number; envVar: string }[];
  status(): Promise<ServerStatus>;
  /** Launches the server detached (it outlives the CLI); returns once it is spawned. */
  start(progress: Progress): Promise<void>;
  /** Resolves once the server answers a real client call; rejects after timeoutMs. */
  waitReady(progress: Progress, timeoutMs: number): Promise<void>;
  stop(progress: Progress): Promise<void>;
}

/** A failure the user can act on: the message says what happened, what to do and where the log is. */
export class StackError extends Error {
  override name = 'StackError';
}
