// One message of berth import compose: a level, where (file, line, column, key path) and what.
export interface ComposeMessage {
  level: 'error' | 'warning' | 'loud' | 'info';
  file: string;
  line?: number;
  col?: number;
  /** The compose key path, e.g. services.web.ports[0]. */
  path?: string;
  text: string;
}
